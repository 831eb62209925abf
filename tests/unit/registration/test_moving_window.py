"""The in-memory moving window: exact limits per key, retry times, stale keys swept."""

from __future__ import annotations

import pytest

from services.registration.abuse import RateLimited, RateLimits
from services.registration.moving_window import MovingWindow

pytestmark = pytest.mark.unit


class Ticks:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_the_limit_then_refuses_until_the_oldest_hit_leaves_the_window() -> None:
    ticks = Ticks()
    window = MovingWindow(3, 60, ticks)
    for _step in range(3):
        assert window.hit("a") is None
        ticks.now += 10
    assert window.hit("a") == pytest.approx(30)  # first hit at 1000 leaves at 1060; now 1030
    assert window.hit("b") is None, "keys are independent"
    ticks.now = 1060.0
    assert window.hit("a") is None
    assert window.hit("a") == pytest.approx(10)  # second hit (1010) leaves at 1070


def test_refused_hits_are_not_counted() -> None:
    ticks = Ticks()
    window = MovingWindow(1, 60, ticks)
    assert window.hit("a") is None
    for _ in range(5):
        ticks.now += 10
        assert window.hit("a") is not None
    ticks.now = 1060.0
    assert window.hit("a") is None


def test_stale_keys_are_swept_once_per_window() -> None:
    ticks = Ticks()
    window = MovingWindow(5, 60, ticks)
    for index in range(100):
        window.hit(f"person-{index}")
    ticks.now += 61
    window.hit("late")
    assert set(window.hits) == {"late"}


def test_a_huge_limit_keeps_only_one_or_two_windows_of_hits() -> None:
    ticks = Ticks()
    window = MovingWindow(100_000_000, 60, ticks)
    for _ in range(3000):
        ticks.now += 0.1  # 300 s of hits
        assert window.hit("127.0.0.1") is None
    assert len(window.hits["127.0.0.1"]) <= 2 * 600


async def test_rate_limits_name_the_scope_and_a_whole_second_retry() -> None:
    ticks = Ticks()
    limits = RateLimits("2/minute", "1/hour", "5/hour", now=ticks)
    await limits.check_address("10.0.0.1")
    await limits.check_address("10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        await limits.check_address("10.0.0.1")
    assert (refused.value.scope, refused.value.retry_after_s) == ("address", 60)
    await limits.check_person("a@example.org", "+381641234567")
    with pytest.raises(RateLimited) as again:
        await limits.check_person("b@example.org", "+381641234567")
    assert again.value.scope == "phone"
