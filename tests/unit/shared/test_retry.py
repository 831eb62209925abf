"""Backoff grows exponentially, is capped, and jitters within bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.kafka import RetryPolicy

pytestmark = pytest.mark.unit


def test_exponential_then_capped_without_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@given(attempt=st.integers(1, 30), draw=st.floats(0, 1))
def test_jitter_stays_within_bounds(attempt: int, draw: float) -> None:
    policy = RetryPolicy(base_delay=0.2, max_delay=5.0, jitter=0.25)
    delay = policy.delay(attempt, lambda: draw)
    capped = min(5.0, 0.2 * 2 ** (attempt - 1))
    assert 0.75 * capped - 1e-9 <= delay <= 1.25 * capped + 1e-9
