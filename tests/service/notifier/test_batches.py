"""The notifier takes placements in batches: one invite per seat, bad records dead-lettered alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.notifier import handlers
from shared import topics
from shared.contracts import SeatAssignedV1
from shared.kafka import PermanentError
from tests.service.notifier.harness import Harness, counted_transactions, running, seat_assigned

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
    real = handlers.held_seat

    def fails_for_one(event: handlers.Held, intake: handlers.Intake) -> handlers.HeldSeat:
        if event.registration_id == failing.registration_id:
            raise PermanentError("cannot be notified")
        return real(event, intake)

    monkeypatch.setattr(handlers, "held_seat", fails_for_one)
    # the batch's transaction fails as a whole; one by one, the other two are taken in
    await harness.broker.publish_batch(first, failing, last, topic=topics.PLACEMENTS)
    await harness.dispatch()

    assert sorted(invited(harness)) == ["p0@opstina.example", "p2@opstina.example"]
    assert len(harness.outcomes) == 2
    assert len(harness.dead_letters) == 1


async def test_a_batch_of_seats_is_taken_in_with_one_transaction(harness: Harness) -> None:
    seats = people(5)
    with counted_transactions(harness.notifier.store) as begun:
        await harness.broker.publish_batch(*seats, topic=topics.PLACEMENTS)
    assert len(begun) == 1
    await harness.dispatch()
    assert sorted(invited(harness)) == [f"p{n}@opstina.example" for n in range(5)]
