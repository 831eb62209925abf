"""The notifier takes placements in batches: one invite per seat, bad records dead-lettered alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.notifier import handlers
from shared import topics
from shared.contracts import PlacementEvent, SeatAssignedV1
from shared.kafka import PermanentError
from tests.service.notifier.harness import Harness, running, seat_assigned

pytestmark = pytest.mark.service


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """A notifier without reminders."""
    async with running(tmp_path, reminder_offsets={"default": {}}) as h:
        yield h


def people(count: int) -> list[SeatAssignedV1]:
    """Seats for `count` different attendees."""
    return [seat_assigned(attendee={"email": f"p{n}@opstina.example"}) for n in range(count)]


def invited(harness: Harness) -> list[str]:
    """Whom an invite went to, in sending order."""
    return [mail["To"].addresses[0].addr_spec for mail in harness.mailer.sent]


async def test_a_batch_with_a_repeat_and_an_invalid_record_invites_each_seat_once(
    harness: Harness,
) -> None:
    first, second = people(2)
    invalid: dict[str, Any] = {**first.model_dump(mode="json"), "registration_id": "not-a-uuid"}
    await harness.broker.publish_batch(first, invalid, first, second, topic=topics.PLACEMENTS)
    await harness.dispatch()

    assert sorted(invited(harness)) == ["p0@opstina.example", "p1@opstina.example"]
    assert [o.kind for o in harness.outcomes] == ["invite", "invite"]
    assert len(harness.dead_letters) == 1


async def test_one_failing_placement_falls_back_one_by_one_and_repeats_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, failing, last = people(3)
    real = handlers.on_placement

    async def fails_for_one(event: PlacementEvent, intake: handlers.Intake) -> None:
        if event.registration_id == failing.registration_id:
            raise PermanentError("cannot be notified")
        await real(event, intake)

    monkeypatch.setattr(handlers, "on_placement", fails_for_one)
    # `first` is taken in before the batch fails; the one-by-one retry takes it in again
    await harness.broker.publish_batch(first, failing, last, topic=topics.PLACEMENTS)
    await harness.dispatch()

    assert sorted(invited(harness)) == ["p0@opstina.example", "p2@opstina.example"]
    assert len(harness.outcomes) == 2
    assert len(harness.dead_letters) == 1
