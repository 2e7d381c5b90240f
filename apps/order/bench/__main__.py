import sys

from apps.order.bench.run import main

sys.exit(main())
