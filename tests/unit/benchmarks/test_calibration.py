"""The reference workload stays the same work, so its times compare across runs and commits."""

from __future__ import annotations

import pytest

from benchmarks.calibration import ROUNDS, reference_ms, workload

pytestmark = pytest.mark.unit


def test_the_workload_is_the_same_work_as_ever() -> None:
    # Pinned: a change to the workload makes the times printed by earlier runs incomparable.
    assert (ROUNDS, workload()) == (300, 1_515_000)


def test_the_reference_time_is_the_best_of_its_repeats_in_milliseconds() -> None:
    readings = iter([10.0, 10.05, 20.0, 20.03, 30.0, 30.04])  # runs of 50, 30 and 40 ms
    assert reference_ms(repeat=3, clock=lambda: next(readings)) == pytest.approx(30.0)
