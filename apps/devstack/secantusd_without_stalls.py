"""`secantusd-py` without two of its pauses that grow with the data it holds:
`python -m apps.devstack.secantusd_without_stalls <secantusd-py arguments>`. The
scale bench runs its database this way (ADR 0033); MongoDB has neither pause.

- The TTL sweep is off. SecantusDB 0.7.0b3 reads `[storage] ttl_sweep_seconds`
  from its settings file but does not pass it on to the server it starts, so the
  setting is given to the server here.
- SecantusDB is a Python process whose heap grows with its data, and each full
  garbage collection walks all of it: 100-650 ms at 100k orders, during which no
  request is served. Here whatever survives a full collection is frozen, so the
  next one walks only what was made since (under 50 ms at 100k)."""

from __future__ import annotations

import functools
import gc
import sys
from typing import Any

from secantus import cli  # type: ignore[import-untyped]  # SecantusDB ships no type hints
from secantus.server import SecantusDBServer  # type: ignore[import-untyped]  # no type hints either

FULL_COLLECTION = 2


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == FULL_COLLECTION:
        gc.freeze()


def freeze_survivors_of_full_collections() -> None:
    """From now on, freeze what each full collection leaves alive. A frozen object
    is still freed when its last reference goes; a reference cycle among frozen
    objects is never reclaimed, which a bench's hour of a database can afford."""
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)


if __name__ == "__main__":
    freeze_survivors_of_full_collections()
    cli.SecantusDBServer = functools.partial(SecantusDBServer, ttl_sweep_seconds=0)
    sys.exit(cli.main())
