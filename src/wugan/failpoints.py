"""Fail points: named places where a test can make the process die, to prove a rerun repairs it.

``WUGAN_FAILPOINTS="notify.sent=3,ingest.landed=1"`` kills the process with
SIGKILL the 3rd time a notice is marked sent and the 1st time a file lands.
Unset (always, outside the kill tests), a fail point costs one dict lookup.
The same idea as FreeBSD's fail(9), gofail or fail-rs: the tests walk every
commit boundary instead of hoping a random kill lands on one.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from functools import cache

__all__ = ["failpoint", "POINTS"]

# Every commit boundary a crash can fall on, in pipeline order; tests kill at each.
POINTS = (
    "store.migrating",     # the case store's schema created, not yet committed
    "ingest.landed",       # a file landed as a batch
    "ingest.refused",      # a refused file recorded, not yet moved aside
    "reconcile.acted",     # a batch of events, corrections or reversals committed
    "notify.rendered",     # the day's notices rendered into the outbox
    "notify.sent",         # one notice handed to the sender and marked sent
)

_hits: Counter[str] = Counter()


@cache
def _armed(spec: str) -> dict[str, int]:
    armed = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, count = part.partition("=")
        if name not in POINTS:
            raise ValueError(f"unknown fail point {name!r} in WUGAN_FAILPOINTS; one of {', '.join(POINTS)}")
        armed[name] = int(count or 1)
    return armed


def failpoint(name: str) -> None:
    """Die here (SIGKILL, no cleanup) if the environment arms this point and its count is reached."""
    spec = os.environ.get("WUGAN_FAILPOINTS")
    if not spec:
        return
    armed = _armed(spec)
    if name in armed:
        _hits[name] += 1
        if _hits[name] == armed[name]:
            os.kill(os.getpid(), signal.SIGKILL)
