import sys

from glosleep_ops.cli import main

sys.exit(main())
