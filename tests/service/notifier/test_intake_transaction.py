"""Intake writes one transaction per placement: everything of an event commits together, or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.notifier.intake_work import IntakeWork
from shared import topics
from shared.contracts import SeatReleasedV1
from tests.service.notifier.harness import counted_transactions, placement, running, seat_assigned

pytestmark = pytest.mark.service


async def test_a_placement_with_reminders_is_recorded_in_one_transaction(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        seat = seat_assigned()
        store = h.notifier.store
        with counted_transactions(store) as begun:
            await h.publish(topics.PLACEMENTS, seat)
        assert len(begun) == 1
        keys = [f"{seat.registration_id}:ppz-bg-06:{kind}:1" for kind in ("invite",)]
        keys += [f"{seat.registration_id}:ppz-bg-06:reminder.email-{m}m:1" for m in (10080, 1440)]
        assert all([await store.get(key) for key in keys])
        entry = await store.entry(seat.registration_id, "ppz-bg-06")
        assert entry is not None
        assert (entry.revision, entry.active) == (1, True)


async def test_a_release_is_recorded_in_one_transaction(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        seat = seat_assigned()
        await h.publish(topics.PLACEMENTS, seat)
        release = placement(
            SeatReleasedV1, seat.registration_id, revision=2, release_reason="participant_cancelled"
        )
        with counted_transactions(h.notifier.store) as begun:
            await h.publish(topics.PLACEMENTS, release)
        assert len(begun) == 1
        cancel = await h.notifier.store.get(f"{seat.registration_id}:ppz-bg-06:cancellation:2")
        assert cancel is not None
        assert cancel.status == "pending"
        reminder = await h.notifier.store.get(
            f"{seat.registration_id}:ppz-bg-06:reminder.email-1440m:1"
        )
        assert reminder is not None
        assert reminder.status == "superseded"


async def test_a_placement_that_fails_midway_leaves_nothing_and_a_redelivery_records_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = IntakeWork.enqueue_keys

    async def broken(self: IntakeWork, *args: Any, **kwargs: Any) -> set[str]:
        await real(self, *args, **kwargs)  # the rows are written, then the process fails
        raise OSError("disk gone")

    async with running(tmp_path) as h:
        seat, store = seat_assigned(), h.notifier.store
        monkeypatch.setattr(IntakeWork, "enqueue_keys", broken)
        await h.publish(topics.PLACEMENTS, seat)  # retried, then dead-lettered
        assert len(h.dead_letters) == 1
        assert await store.entry(seat.registration_id, "ppz-bg-06") is None  # rolled back
        assert await store.get(f"{seat.registration_id}:ppz-bg-06:invite:1") is None

        monkeypatch.setattr(IntakeWork, "enqueue_keys", real)
        await h.place(seat)  # the operator's replay, or Kafka's redelivery
        assert len(h.mailer.sent) == 1
        assert await store.entry(seat.registration_id, "ppz-bg-06") is not None
        assert await store.get(f"{seat.registration_id}:ppz-bg-06:reminder.email-1440m:1")
