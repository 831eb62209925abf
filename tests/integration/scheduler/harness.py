"""Run the scheduler as a real process on a real broker, feed it, and read back what it decided."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pydantic import TypeAdapter

from services.scheduler.domain import Book, WaitlistPolicy
from services.scheduler.store import SchedulerStore
from services.scheduler.tables import outbox
from shared import topics
from shared.contracts import Event, PlacementEvent
from shared.kafka.admin import ensure_topics
from tests.service.scheduler.conftest import small_catalogue

REPO = Path(__file__).resolve().parents[3]
PROGRAMME = "small"
placement_events: TypeAdapter[PlacementEvent] = TypeAdapter(PlacementEvent)


@dataclass
class SchedulerProcess:
    """`python -m services.scheduler` with its own environment and log file."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> SchedulerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.scheduler"],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """kill -9: no shutdown hook runs."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM: a graceful stop (consumer leaves the group)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def scheduler_env(tmp_path: Path, bootstrap: str, database_url: str) -> dict[str, str]:
    """Environment for a scheduler process on `bootstrap` and `database_url`."""
    catalogue = tmp_path / "catalogue.yaml"
    if not catalogue.exists():
        catalogue.write_text(yaml.safe_dump(small_catalogue(5, 5, 3)), encoding="utf-8")
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATABASE_URL": database_url,
        "CATALOGUE_PATH": str(catalogue),
        "DATA_DIR": str(tmp_path),
        "ADMIN_HTTP_PORT": "0",
        "LOG_FORMAT": "json",
        "OUTBOX_INTERVAL_SECONDS": "0.2",
    }


async def publish(bootstrap: str, events: Iterable[Event], pause: float = 0.0) -> None:
    """Publish events on the registrations stream, keyed by programme, acks=all.

    `pause` seconds between events make a stream that trickles in, as registrations do: the
    scheduler then takes it in many small batches rather than in one.
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topics.REGISTRATIONS,
                event.model_dump_json().encode(),
                key=PROGRAMME.encode(),
                headers=[("event_type", event.event_type.encode())],
            )
            await asyncio.sleep(pause)
    finally:
        await producer.stop()


async def prepare_topics(bootstrap: str) -> None:
    """Create the system's topics (as the service would) before anyone produces."""
    await ensure_topics(bootstrap)


T = TypeVar("T")


async def read_topic(bootstrap: str, topic: str, parse: Callable[[bytes], T]) -> list[T]:
    """Every record of `topic`, parsed, from the beginning to the current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        found: list[T] = []
        while [p for p in parts if await consumer.position(p) < ends[p]]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found.extend(parse(r.value) for r in records if r.value)
        return found
    finally:
        await consumer.stop()


async def read_placements(bootstrap: str) -> list[PlacementEvent]:
    """Everything on the placements topic, from the beginning to the current end."""
    return await read_topic(bootstrap, topics.PLACEMENTS, placement_events.validate_json)


async def lag(bootstrap: str, group: str = "scheduler") -> int:
    """Messages on the registrations topic the scheduler's group has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        parts = [TopicPartition(topics.REGISTRATIONS, p) for p in range(3)]
        ends = await consumer.end_offsets(parts)
        try:
            committed = await admin.list_consumer_group_offsets(group)
        except KafkaError:  # the group coordinator is still starting: not settled yet
            return -1
        return sum(
            ends[p] - (committed[p].offset if p in committed and committed[p].offset >= 0 else 0)
            for p in parts
        )
    finally:
        await consumer.stop()
        await admin.close()


async def settled(bootstrap: str, store: SchedulerStore, *, within: float = 60) -> None:
    """Wait (bounded) until every registration message is committed and the outbox is empty."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await lag(bootstrap) == 0 and await unpublished(store) == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"not settled: lag={await lag(bootstrap)}, outbox={await unpublished(store)}"
    )


async def unpublished(store: SchedulerStore) -> int:
    async with store.connection() as conn:
        rows = await conn.execute(outbox.select().where(outbox.c.published_at.is_(None)))
        return len(rows.all())


async def book_of(store: SchedulerStore) -> Book:
    async with store.transaction(PROGRAMME) as tx:
        return await tx.load_book(WaitlistPolicy())


def check_history(events: list[PlacementEvent], book: Book) -> dict[str, int]:
    """Nothing doubled or lost; the last events equal the stored state. Returns a few counts.

    Events of registrations this database never saw (an earlier test on the same topic) are
    left out; every registration it did see must have its full history on the topic.
    """
    events = [e for e in events if e.registration_id in book.placements]
    by_revision: dict[tuple[UUID, int], set[UUID]] = defaultdict(set)
    for event in events:
        by_revision[(event.registration_id, event.revision)].add(event.event_id)
    doubled = {k: v for k, v in by_revision.items() if len(v) > 1}
    assert not doubled, f"two different events for one revision: {doubled}"
    latest: dict[UUID, PlacementEvent] = {}
    for event in events:
        if event.revision >= getattr(latest.get(event.registration_id), "revision", 0):
            latest[event.registration_id] = event
    assert set(latest) == set(book.placements), "a registration lost its decision"
    for registration_id, placement in book.placements.items():
        revisions = sorted({r for (rid, r) in by_revision if rid == registration_id})
        assert revisions == list(range(1, placement.revision + 1)), "a revision went missing"
        assert _status(latest[registration_id]) == (placement.status, placement.session_id)
    for slot in book.slots.values():
        assert len(book.holders(slot.session_id)) <= slot.capacity
    return {
        "events": len(events),
        "distinct": len({e.event_id for e in events}),
        "registrations": len(book.placements),
    }


def _status(event: Any) -> tuple[str, str | None]:
    kind = {
        "seat.assigned": "assigned",
        "seat.updated": "assigned",
        "seat.offered": "offered",
        "registration.waitlisted": "waitlisted",
        "registration.cancelled": "cancelled",
    }[event.event_type]
    session = getattr(event, "session", None)
    keeps_seat = kind in ("assigned", "offered")
    return kind, session.session_id if keeps_seat and session is not None else None
