"""The benchmark's stage split: where each registrant's latency went."""

from __future__ import annotations

import pytest

from benchmarks.stats import stage_latencies

pytestmark = pytest.mark.unit


def test_each_stage_runs_from_the_end_of_the_one_before() -> None:
    stages = stage_latencies(
        posted_at={"a@x.example": 1.0, "b@x.example": 2.0},
        accepted_at={"a@x.example": 1.5, "b@x.example": 2.25},
        registration_ids={"a@x.example": "id-a", "b@x.example": "id-b"},
        decided_at={"id-a": 2.0, "id-b": 3.0},
        queued_at={"id-a": 2.5, "id-b": 3.125},
        invited_at={"a@x.example": 4.0, "b@x.example": 3.5},
    )
    assert stages == {
        "POST -> 202": [0.5, 0.25],
        "202 -> decided": [0.5, 0.75],
        "decided -> queued by the notifier": [0.5, 0.125],
        "queued -> invite accepted": [1.5, 0.375],
    }


def test_a_missing_reading_leaves_out_only_the_stages_that_need_it() -> None:
    stages = stage_latencies(
        posted_at={"a@x.example": 1.0},
        accepted_at={"a@x.example": 1.5},
        registration_ids={"a@x.example": "id-a"},
        decided_at={},  # the tail never saw the decision
        queued_at={"id-a": 3.0},
        invited_at={"a@x.example": 4.0},
    )
    assert stages == {
        "POST -> 202": [0.5],
        "202 -> decided": [],
        "decided -> queued by the notifier": [],
        "queued -> invite accepted": [1.0],
    }
