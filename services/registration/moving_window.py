"""An exact moving-window rate limit kept in memory, O(1) amortised per hit."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable


class MovingWindow:
    """At most `limit` hits per key in any `window_s` seconds; refused hits are not counted.

    The `limits` library's in-memory async storage walks every key (each through a thread)
    on every hit; this keeps one sorted list of hit times per key and sweeps stale keys
    once per window.
    """

    def __init__(self, limit: int, window_s: float, now: Callable[[], float]) -> None:
        self.limit, self.window_s, self.now = limit, window_s, now
        self.hits: dict[str, list[float]] = {}
        self.next_sweep = now() + window_s

    def hit(self, key: str) -> float | None:
        """Count a hit and return None, or refuse it and return the seconds until one fits."""
        now = self.now()
        if now >= self.next_sweep:
            self._sweep(now)
        stamps = self.hits.setdefault(key, [])
        if len(stamps) >= self.limit:
            del stamps[: bisect_right(stamps, now - self.window_s)]
        if len(stamps) >= self.limit:
            return stamps[-self.limit] + self.window_s - now
        stamps.append(now)
        return None

    def _sweep(self, now: float) -> None:
        """Drop hits older than the window, and keys left without hits."""
        horizon = now - self.window_s
        for key, stamps in list(self.hits.items()):
            del stamps[: bisect_right(stamps, horizon)]
            if not stamps:
                del self.hits[key]
        self.next_sweep = now + self.window_s
