"""The scheduler end to end on FastStream's in-memory broker: registrations in, placements out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from structlog.testing import capture_logs

from services.scheduler.handlers import placement_event_id
from shared import topics
from shared.catalogue import load_catalogue
from shared.contracts import RegistrationSubmittedV1, RegistrationWaitlistedV1, SeatAssignedV1
from shared.kafka import publish_event
from tests.service.scheduler.conftest import Scheduler, registration, start_scheduler

pytestmark = pytest.mark.service

SEED = Path(__file__).resolve().parents[3] / "deploy" / "seed" / "programmes.yaml"
PROGRAMME = "social-networks-lsg"


@pytest.fixture
async def scheduler(tmp_path: Path) -> AsyncIterator[Scheduler]:
    async for running in start_scheduler(tmp_path, SEED, PROGRAMME):
        yield running


def seed_registration(*preferences: str, n: int = 0) -> RegistrationSubmittedV1:
    """A registrant of municipality n (the seed caps seats per municipality)."""
    return registration(*preferences, n=n, programme=PROGRAMME, organisation=f"Opština {n}")


def test_the_seed_caps_each_municipality_at_three_seats_a_training() -> None:
    catalogue = load_catalogue(SEED)
    trainings = [s for p in catalogue.programmes for s in p.sessions if s.phase == "training"]
    assert {s.municipality_cap for s in trainings} == {3}


async def test_a_fourth_registrant_of_one_city_goes_to_the_next_choice(
    scheduler: Scheduler,
) -> None:
    placed = [
        await scheduler.submit(
            registration("sn-training-1", "sn-training-2", n=n, programme=PROGRAMME)
        )
        for n in range(4)
    ]
    sessions = [p.session.session_id for p in placed if isinstance(p, SeatAssignedV1)]
    assert sessions == ["sn-training-1"] * 3 + ["sn-training-2"]


async def test_every_seed_session_is_published_once_at_first_start(scheduler: Scheduler) -> None:
    ids = sorted(s.session.session_id for s in scheduler.sessions)
    assert len(ids) == 10
    assert len(set(ids)) == 10
    assert {s.revision for s in scheduler.sessions} == {1}
    assert {s.status for s in scheduler.sessions} == {"scheduled"}
    training = next(s for s in scheduler.sessions if s.session.session_id == "sn-training-1")
    assert training.capacity == 24
    assert training.registration_deadline == datetime(2027, 6, 1, 21, 59, tzinfo=UTC)


async def test_registration_gets_a_seat_in_its_first_choice(scheduler: Scheduler) -> None:
    submitted = seed_registration("sn-training-3", "sn-training-1")
    placed = await scheduler.submit(submitted)
    assert isinstance(placed, SeatAssignedV1)
    assert placed.registration_id == submitted.registration_id
    assert placed.session.session_id == "sn-training-3"
    assert placed.session.days[0].starts_at == datetime(2027, 6, 29, 7, 30, tzinfo=UTC)
    assert (placed.revision, placed.choice_rank, placed.reason) == (1, 1, "1st choice")
    assert placed.attendee == submitted.registrant
    assert (placed.correlation_id, placed.producer) == (submitted.correlation_id, "scheduler")
    assert placed.event_id == placement_event_id(submitted.registration_id, 1)
    message = scheduler.placed[-1][1]
    assert message.correlation_id == submitted.correlation_id
    record = message.raw_message
    assert not isinstance(record, tuple)
    assert record.key == str(submitted.registration_id).encode()


async def test_redelivery_makes_no_second_decision(scheduler: Scheduler) -> None:
    submitted = seed_registration("sn-training-1")
    await scheduler.submit(submitted)
    with capture_logs() as logs:
        again = await scheduler.send(submitted)
        retried = await scheduler.send(submitted.model_copy(update={"event_id": UUID(int=7)}))
    assert again == []
    assert retried == []
    events = [entry["event"] for entry in logs]
    assert events == ["message.duplicate", "registration.duplicate"]
    assert await taken(scheduler, "sn-training-1") == 1


async def test_full_session_sends_next_registrant_to_second_choice_then_waitlist(
    scheduler: Scheduler,
) -> None:
    for n in range(24):
        await scheduler.submit(seed_registration("sn-training-1", n=n))
    second = await scheduler.submit(seed_registration("sn-training-1", "sn-training-2", n=24))
    assert isinstance(second, SeatAssignedV1)
    assert (second.session.session_id, second.choice_rank) == ("sn-training-2", 2)
    assert second.reason == "2nd choice: 1st choice full"
    for n in range(25, 48):
        await scheduler.submit(seed_registration("sn-training-2", n=n))
    waiting = await scheduler.submit(seed_registration("sn-training-1", "sn-training-2", n=48))
    assert isinstance(waiting, RegistrationWaitlistedV1)
    assert (waiting.position, waiting.reason) == (1, "waitlisted: all 2 preferences full")
    assert await taken(scheduler, "sn-training-1") == 24
    assert await taken(scheduler, "sn-training-2") == 24


async def test_logs_carry_ids_but_no_personal_data(scheduler: Scheduler) -> None:
    submitted = seed_registration("sn-training-1", n=7)
    with capture_logs() as logs:
        await scheduler.submit(submitted)
    assert [entry["event"] for entry in logs] == ["placement.assigned"]
    assert logs[0]["registration_id"] == str(submitted.registration_id)
    text = repr(logs)
    for personal in ("Petra", "petra.7@example.org", "+381601234567", "Opština 7"):
        assert personal not in text


async def test_unknown_programme_is_dead_lettered(scheduler: Scheduler) -> None:
    submitted = registration(programme="no-such-programme")
    await publish_event(scheduler.broker, topics.REGISTRATIONS, submitted, key="no-such-programme")
    assert scheduler.placed == []
    assert len(scheduler.dead) == 1
    assert "no programme 'no-such-programme'" in scheduler.dead[0].headers["x-dead-letter-reason"]


def test_event_ids_are_deterministic() -> None:
    registration_id = UUID("6f1c1d2e-9a43-4c55-8a8e-2b4c8f0d9e11")
    assert placement_event_id(registration_id, 1) == placement_event_id(registration_id, 1)
    assert placement_event_id(registration_id, 1) != placement_event_id(registration_id, 2)


async def taken(scheduler: Scheduler, session_id: str) -> int:
    """Seats held in a session, read straight from the database."""
    async with scheduler.deps.store.transaction(PROGRAMME) as tx:
        book = await tx.load_book(scheduler.deps.policy)
    return len(book.holders(session_id))
