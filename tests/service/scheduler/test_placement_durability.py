"""Placements survive concurrency and crashes: no overbooking, one decision, a real outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast
from uuid import uuid4

import pytest
import yaml
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker
from pydantic import TypeAdapter

from services.scheduler.domain import WaitlistPolicy
from services.scheduler.handlers import Deps, cancel_registration, place_registration
from services.scheduler.outbox import OutboxRelay
from services.scheduler.sessions import seed_catalogue
from services.scheduler.store import SchedulerStore
from shared.catalogue import parse_catalogue
from shared.clock import ManualClock
from shared.contracts import (
    CancellationRequestedV1,
    PlacementEvent,
    RegistrationSubmittedV1,
    SeatAssignedV1,
    SessionPublishedV1,
)
from tests.service.scheduler.conftest import NOW, registration, small_catalogue

pytestmark = pytest.mark.service


PUBLISHED: TypeAdapter[PlacementEvent | SessionPublishedV1] = TypeAdapter(
    PlacementEvent | SessionPublishedV1
)


class RecordingBroker:
    """Stands in for Kafka: records what is published; can fail the next `failures` publishes."""

    def __init__(self) -> None:
        self.published: list[Any] = []
        self.failures = 0

    async def publish(self, message: Any, topic: str, **_: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise KafkaConnectionError("broker unreachable")
        self.published.append(PUBLISHED.validate_json(message))  # the outbox sends stored JSON


def make_deps(
    store: SchedulerStore,
    broker: RecordingBroker,
    *,
    capacities: tuple[int, ...] = (3, 2),
    cap: int | None = None,
    mode: str = "first_come",
) -> Deps:
    catalogue = parse_catalogue(yaml.safe_dump(small_catalogue(*capacities, cap=cap, mode=mode)))
    clock = ManualClock(NOW)
    relay = OutboxRelay(store, cast(KafkaBroker, broker), clock)
    return Deps(catalogue, store, relay, clock, WaitlistPolicy())


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SchedulerStore]:
    store = SchedulerStore(f"sqlite+aiosqlite:///{tmp_path / 'scheduler.sqlite3'}")
    await store.create_tables()
    yield store
    await store.dispose()


@pytest.fixture
async def deps(store: SchedulerStore) -> Deps:
    deps = make_deps(store, RecordingBroker())
    await seed_catalogue(deps)
    return deps


def broker_of(deps: Deps) -> RecordingBroker:
    return cast(RecordingBroker, deps.relay.broker)


async def test_concurrent_registrations_never_overbook(deps: Deps) -> None:
    registrations = [registration("s1", n=n) for n in range(20)]
    await asyncio.gather(*(place_registration(r, deps) for r in registrations))
    placed = [e for e in broker_of(deps).published if getattr(e, "registration_id", None)]
    seated = [e for e in placed if isinstance(e, SeatAssignedV1)]
    waiting = sorted(getattr(e, "position", 0) for e in placed if not isinstance(e, SeatAssignedV1))
    assert len(seated) == 3
    assert waiting == list(range(1, 18))


async def test_concurrent_redeliveries_make_one_decision(deps: Deps) -> None:
    submitted = registration("s1", n=1)
    await asyncio.gather(*(place_registration(submitted, deps) for _ in range(8)))
    placed = [e for e in broker_of(deps).published if getattr(e, "registration_id", None)]
    assert len(placed) == 1
    assert await deps.relay.pending() == 0


async def test_a_failed_publish_leaves_the_events_in_the_outbox_until_the_relay_succeeds(
    deps: Deps,
) -> None:
    broker = broker_of(deps)
    before = len(broker.published)
    broker.failures = 1
    seated = registration("s1", n=1)
    await place_registration(seated, deps)  # committed; the publish failed and was deferred
    assert len(broker.published) == before
    assert await deps.relay.pending() == 1
    await deps.relay.flush()
    assert [e.registration_id for e in broker.published[before:]] == [seated.registration_id]
    assert await deps.relay.pending() == 0


async def test_a_new_relay_after_a_crash_publishes_what_was_committed_in_order(
    store: SchedulerStore, deps: Deps
) -> None:
    broker_of(deps).failures = 10_000  # Kafka is gone while these commit
    waiting = [registration("s2", n=n) for n in range(4)]
    for submitted in waiting:
        await place_registration(submitted, deps)
    await cancel_registration(_cancel(waiting[0]), deps)
    restarted = make_deps(store, RecordingBroker())  # a new process on the same database
    published = await restarted.relay.flush()
    events = broker_of(restarted).published
    assert published == len(events) == 8  # 4 decisions, released + cancelled, 1 offer, 1 move up
    kinds = [(e.event_type, e.registration_id) for e in events]
    assert kinds[:4] == [
        ("seat.assigned", waiting[0].registration_id),
        ("seat.assigned", waiting[1].registration_id),
        ("registration.waitlisted", waiting[2].registration_id),
        ("registration.waitlisted", waiting[3].registration_id),
    ]
    assert [k for k, _ in kinds[4:]] == [
        "seat.released",
        "registration.cancelled",
        "seat.offered",
        "registration.waitlisted",  # waiting[3] moved up to position 1
    ]
    assert kinds[7][1] == waiting[3].registration_id
    assert await restarted.relay.flush() == 0


async def test_a_crash_between_publish_and_mark_republishes_the_same_event_id(
    store: SchedulerStore, deps: Deps
) -> None:
    submitted = registration("s1", n=1)
    broker_of(deps).failures = 1
    await place_registration(submitted, deps)
    crashing = make_deps(store, RecordingBroker())

    async def crash(seq: int, now: Any) -> None:
        raise RuntimeError("killed before the mark")

    crashing.relay._mark = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await crashing.relay.flush()
    again = make_deps(store, RecordingBroker())
    await again.relay.flush()
    [first] = broker_of(crashing).published
    [second] = broker_of(again).published
    assert first == second  # same event id: consumers drop the duplicate


def _cancel(submitted: RegistrationSubmittedV1) -> CancellationRequestedV1:
    return CancellationRequestedV1(
        event_id=uuid4(),
        occurred_at=NOW,
        correlation_id="corr-cancel",
        producer="registration",
        registration_id=submitted.registration_id,
        programme_id="small",
        requested_by="participant",
    )


async def test_a_replica_never_decides_on_a_book_another_replica_has_changed(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    first, second = SchedulerStore(url), SchedulerStore(url)
    await first.create_tables()
    try:
        a = make_deps(first, RecordingBroker(), capacities=(2,))
        b = make_deps(second, RecordingBroker(), capacities=(2,))
        await seed_catalogue(a)
        await place_registration(registration("s1", n=1), a)  # a caches its book
        await place_registration(registration("s1", n=2), b)  # b takes the last seat
        await place_registration(registration("s1", n=3), a)  # a must not reuse its cached book
        events = broker_of(a).published + broker_of(b).published
        seats = [e for e in events if isinstance(e, SeatAssignedV1)]
        assert len(seats) == 2, "a stale cached book would overbook the session"
    finally:
        await first.dispose()
        await second.dispose()
