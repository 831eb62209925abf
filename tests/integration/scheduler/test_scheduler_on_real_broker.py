"""kill -9 of the scheduler mid-stream, a restart on the same database, and redelivered messages:
every registration decided once, no revision doubled or lost, events equal to the stored state.
And decisions committed while Kafka was unreachable (then the process died) reach Kafka exactly
once when a scheduler starts again on the same database. And two replicas on one PostgreSQL
database and one topic: a rebalance (the second joins, then the first leaves mid-stream) loses and
doubles no decision."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from uuid import uuid4

import pytest

from services.scheduler.handlers import place_registration
from services.scheduler.sessions import seed_catalogue
from services.scheduler.store import SchedulerStore
from shared import topics
from shared.contracts import CancellationRequestedV1, Event, SessionPublishedV1
from tests.integration.scheduler.harness import (
    PROGRAMME,
    SchedulerProcess,
    book_of,
    check_history,
    prepare_topics,
    publish,
    read_placements,
    read_topic,
    scheduler_env,
    settled,
    unpublished,
)
from tests.service.scheduler.conftest import NOW, registration
from tests.service.scheduler.test_placement_durability import RecordingBroker, make_deps

pytestmark = pytest.mark.integration
# The tests of this module share one broker (and its fixed topics): each checks its own
# registrations, and each lets the scheduler settle before it ends.


def stream(count: int, seed: int) -> list[Event]:
    """Registrations with random preferences, and every fifth one cancelled a little later."""
    rng = random.Random(seed)
    events: list[Event] = []
    for n in range(count):
        events.append(registration(*rng.sample(["s1", "s2", "s3"], rng.randint(0, 3)), n=n))
        if n % 5 == 4:
            victim = events[-3]
            events.append(
                CancellationRequestedV1(
                    event_id=uuid4(),
                    occurred_at=NOW,
                    correlation_id=f"cancel-{n}",
                    producer="registration",
                    registration_id=victim.registration_id,  # type: ignore[attr-defined]
                    programme_id=PROGRAMME,
                    requested_by="participant",
                )
            )
    return events


async def placements_seen(bootstrap: str, at_least: int, within: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if len(await read_placements(bootstrap)) >= at_least:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} placements within {within}s")


async def test_kill_9_mid_stream_restart_and_redelivery_lose_and_double_nothing(
    service_kafka: str, tmp_path: Path
) -> None:
    await prepare_topics(service_kafka)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'scheduler.sqlite3'}"
    env = scheduler_env(tmp_path, service_kafka, database_url)
    events = stream(60, seed=7)
    first = SchedulerProcess(env, tmp_path / "first.log").start()
    try:
        await publish(service_kafka, events[:1])
        await placements_seen(service_kafka, at_least=1)  # consuming: now let the rest trickle in
        feeding = asyncio.create_task(publish(service_kafka, events[1:], pause=0.05))
        await placements_seen(service_kafka, at_least=10)
        first.kill()  # mid-stream: the producer is still feeding
        await feeding
    finally:
        first.stop()
    before_restart = len(await read_placements(service_kafka))
    second = SchedulerProcess(env, tmp_path / "second.log").start()
    store = SchedulerStore(database_url)
    try:
        await settled(service_kafka, store)
        decided = len(await read_placements(service_kafka))
        # Kafka redelivers: the same messages again, and a client retry with a new event id
        replay = events[:25] + [e.model_copy(update={"event_id": uuid4()}) for e in events[:5]]
        await publish(service_kafka, replay)
        await settled(service_kafka, store)
        found = await read_placements(service_kafka)
        book = await book_of(store)
    finally:
        second.stop()
        await store.dispose()
    counts = check_history(found, book)
    print(f"\nkill -9 after {before_restart} placement events; {counts}")
    assert counts["registrations"] == 60
    assert len(found) == decided  # the replay decided nothing new and re-published nothing
    assert before_restart < decided


async def catalogue_events(bootstrap: str) -> list[SessionPublishedV1]:
    """Everything on the catalogue topic, from the beginning to the current end."""
    return await read_topic(bootstrap, topics.CATALOGUE, SessionPublishedV1.model_validate_json)


async def test_the_outbox_publishes_what_was_committed_before_a_crash(
    service_kafka: str, tmp_path: Path
) -> None:
    await prepare_topics(service_kafka)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'scheduler.sqlite3'}"
    env = scheduler_env(tmp_path, service_kafka, database_url)
    store = SchedulerStore(database_url)
    await store.create_tables()
    unreachable = RecordingBroker()
    unreachable.failures = 10_000
    deps = make_deps(store, unreachable, capacities=(5, 5, 3))
    await seed_catalogue(deps)
    for n in range(12):
        await place_registration(registration("s3", "s1", n=n), deps)
    assert unreachable.published == []
    assert await unpublished(store) == 3 + 12  # three sessions, twelve decisions: then the crash
    restarted = SchedulerProcess(env, tmp_path / "restarted.log").start()
    try:
        await settled(service_kafka, store)
        found = await read_placements(service_kafka)
        sessions = await catalogue_events(service_kafka)
        book = await book_of(store)
    finally:
        restarted.stop()
        await store.dispose()
    counts = check_history(found, book)
    assert counts == {"events": 12, "distinct": 12, "registrations": 12}
    assert {s.session.session_id for s in sessions} == {"s1", "s2", "s3"}


async def test_a_rebalance_between_two_replicas_loses_and_doubles_nothing(
    service_kafka: str, postgres_url: str, tmp_path: Path
) -> None:
    await prepare_topics(service_kafka)
    env = scheduler_env(tmp_path, service_kafka, postgres_url)
    events = stream(60, seed=11)
    first = SchedulerProcess(env, tmp_path / "first.log").start()
    second = SchedulerProcess(env, tmp_path / "second.log")
    store = SchedulerStore(postgres_url)
    try:
        feeding = asyncio.create_task(publish(service_kafka, events[:40]))
        await placements_seen(service_kafka, at_least=5)
        second.start()  # joins the group: partitions move
        await feeding
        await placements_seen(service_kafka, at_least=20)
        first.stop()  # leaves mid-stream: the second takes everything over
        await publish(service_kafka, events[40:])
        await settled(service_kafka, store, within=90)
        found = await read_placements(service_kafka)
        book = await book_of(store)
    finally:
        first.stop()
        second.stop()
        await store.dispose()
    counts = check_history(found, book)
    print(f"\ntwo replicas on PostgreSQL: {counts}")
    assert counts["registrations"] == 60
    second_log = (tmp_path / "second.log").read_text(encoding="utf-8")
    assert "placement." in second_log  # the second replica really made decisions
