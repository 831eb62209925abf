"""The garbage collector tuned for a long-running service (the standard library's own knobs).

Start-up builds a large heap that lives as long as the process (modules, the app, schemas,
SQLAlchemy's metadata): `gc.freeze()` moves it out of every later collection. A young
generation of `YOUNG_THRESHOLD` allocations instead of 700 lets the objects of work in flight
(a request, a batch, a message being composed) die young instead of being promoted and
scanned again by full collections. A frozen object is never collected: what start-up built must
live as long as the process, which is what a service's start-up builds.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def settle_after_start_up() -> None:
    """Collect once, freeze what start-up built, and widen the young generation."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
