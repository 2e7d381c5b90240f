"""`secantusd-py` with its TTL sweep off: `python -m apps.devstack.secantusd_without_ttl_sweep
<secantusd-py arguments>`. SecantusDB 0.7.0b3 reads `[storage] ttl_sweep_seconds` from
its settings file but does not pass it on to the server it starts, so the setting is
given to the server here (ADR 0033)."""

from __future__ import annotations

import functools
import sys

from secantus import cli  # type: ignore[import-untyped]  # SecantusDB ships no type hints
from secantus.server import SecantusDBServer  # type: ignore[import-untyped]  # as above

if __name__ == "__main__":
    cli.SecantusDBServer = functools.partial(SecantusDBServer, ttl_sweep_seconds=0)
    sys.exit(cli.main())
