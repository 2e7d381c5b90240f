"""The soak runs only from `make soak` (SOAK_SECONDS set), never in `make test`."""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("SOAK_SECONDS") else ["test_*.py"]
