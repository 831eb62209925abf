"""The collector's settings after a service's start-up."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shared.collector import YOUNG_THRESHOLD, settle_after_start_up

pytestmark = pytest.mark.unit


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Put the process's collector back as it was."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector_restored")
def test_start_up_objects_are_frozen_and_the_young_generation_widened() -> None:
    built_at_start_up = [[n] for n in range(1000)]  # lists: always tracked by the collector
    _, middle, old = gc.get_threshold()
    settle_after_start_up()
    frozen = gc.get_freeze_count()
    assert frozen >= len(built_at_start_up)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
    made_later = [[n] for n in range(1000)]
    gc.collect()
    assert gc.get_freeze_count() == frozen, "only what existed at start-up is frozen"
    assert len(made_later) == len(built_at_start_up)
