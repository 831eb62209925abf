"""Capped exponential backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing handler is retried before it is dead-lettered."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0
    jitter: float = 0.25

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed `attempt` (1-based): base * 2^(n-1), capped, +/- jitter."""
        capped = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return float(max(0.0, capped * (1 + self.jitter * (2 * rng() - 1))))
