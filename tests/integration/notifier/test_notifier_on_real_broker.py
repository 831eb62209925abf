"""The notifier as it runs: real Kafka in, a real SMTP server (aiosmtpd) out, outcomes on Kafka."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import icalendar
import pytest
from aiokafka import AIOKafkaConsumer
from aiosmtpd.controller import Controller
from faststream import TestApp
from pydantic import BaseModel

from deploy.ports import free_port
from services.notifier.main import create_app
from services.notifier.settings import NotifierSettings
from services.notifier.store import SqlNotificationStore
from shared import topics
from shared.contracts import SeatAssignedV1, SeatOfferedV1, SeatReleasedV1, SeatUpdatedV1
from shared.kafka import make_broker, publish_event
from tests.integration.notifier.test_smtp_adapter import Server

pytestmark = pytest.mark.integration
SECRET = "integration-link-secret-0123456"


def event(kind: type[BaseModel], registration_id: UUID, email: str, **top: Any) -> Any:
    """A placement for a one-day session in Sarajevo."""
    session = {
        "session_id": "bih-sa-09",
        "programme_id": "bih-2026",
        "title": "Strateško planiranje",
        "mode": "in_person",
        "timezone": "Europe/Sarajevo",
        "days": [{"starts_at": "2026-09-15T07:00:00Z", "ends_at": "2026-09-15T14:00:00Z"}],
        "venue": {"name": "Vijećnica", "city": "Sarajevo"},
        "language": "bs",
    } | top.pop("session", {})
    data = {
        "event_id": str(uuid4()),
        "occurred_at": "2026-05-04T08:00:00Z",
        "correlation_id": f"it-{uuid4().hex[:8]}",
        "producer": "scheduler",
        "registration_id": str(registration_id),
        "programme_id": "bih-2026",
        "session": session,
        "attendee": {
            "full_name": "Amra Hodžić",
            "email": email,
            "organisation": "Općina Centar",
            "language": "bs",
        },
        "revision": 1,
        "reason": "it",
    } | top
    return kind.model_validate(data)


def parsed(server: Server, email: str) -> list[EmailMessage]:
    """The accepted messages to `email`, parsed."""
    messages = [BytesParser(policy=policy.default).parsebytes(raw) for raw in server.received]
    return [m for m in messages if m["To"].addresses[0].addr_spec == email]  # type: ignore[misc]


def calendars(messages: list[EmailMessage]) -> list[tuple[str, str, int]]:
    """(MIME method=, METHOD, SEQUENCE) of each message with a calendar."""
    found = []
    for message in messages:
        part = message.get_body(("calendar",))
        if part is not None:
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            sequence = calendar.events[0]["SEQUENCE"]
            found.append((part.get_param("method"), str(calendar["METHOD"]), sequence))
    return found


async def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Poll `condition` with a bounded deadline."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the SMTP server runs in its own thread
            await asyncio.sleep(0.05)


async def outcomes_for(bootstrap: str, registration_id: UUID, count: int) -> list[dict[str, Any]]:
    """Read notification outcomes of one registration until `count` arrived."""
    consumer = AIOKafkaConsumer(
        topics.NOTIFICATIONS, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                values = [json.loads(r.value) for rs in batch.values() for r in rs]
                found += [v for v in values if v["registration_id"] == str(registration_id)]
    finally:
        await consumer.stop()
    return found


@asynccontextmanager
async def notifier(
    bootstrap: str, tmp_path: Path, **replies: Any
) -> AsyncIterator[tuple[Server, Callable[[BaseModel], Any]]]:
    """An SMTP server (with `replies`), the notifier on the real broker, and a publish function."""
    server = Server(**replies)
    smtp = Controller(server, hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = NotifierSettings(
        kafka_bootstrap_servers=bootstrap,
        data_dir=tmp_path,
        smtp_port=smtp.port,
        link_signing_secret=SECRET,
        retry_base_delay=0.2,
        dispatch_poll_interval=0.1,
        _env_file=None,
    )
    producer = make_broker(bootstrap, client_id="it-scheduler")

    async def publish(placement: BaseModel) -> None:
        key = str(placement.registration_id)  # type: ignore[attr-defined]
        await publish_event(producer, topics.PLACEMENTS, placement, key=key)  # type: ignore[arg-type]

    try:
        async with TestApp(create_app(settings)), producer:
            await producer.start()
            yield server, publish
    finally:
        smtp.stop()


async def test_assignment_update_and_release_each_arrive_once(
    service_kafka: str, tmp_path: Path
) -> None:
    rid, email = uuid4(), f"amra.{uuid4().hex[:6]}@opcina.example"
    moved = {"days": [{"starts_at": "2026-09-22T07:00:00Z", "ends_at": "2026-09-22T14:00:00Z"}]}
    async with notifier(service_kafka, tmp_path) as (server, publish):
        assigned = event(SeatAssignedV1, rid, email)
        started = time.monotonic()
        await publish(assigned)
        await until(lambda: len(parsed(server, email)) == 1)
        latency = time.monotonic() - started
        print(f"placement -> invite accepted by SMTP: {latency * 1000:.0f} ms")
        assert latency < 5
        updated = event(SeatUpdatedV1, rid, email, revision=2, changes=["time"], session=moved)
        released = event(
            SeatReleasedV1,
            rid,
            email,
            revision=3,
            release_reason="session_cancelled",
            session=moved,
        )
        for placement in (assigned, updated, updated, released, released):
            await publish(placement)  # each one twice: the second is a redelivery
        # A later message on the same partition: once it arrived, everything before was handled.
        offer = event(
            SeatOfferedV1,
            rid,
            email,
            revision=4,
            expires_at="2026-09-10T10:00:00Z",
            session={"session_id": "bih-sa-10"},
        )
        await publish(offer)
        await until(lambda: len(parsed(server, email)) >= 4)
    messages = parsed(server, email)
    assert calendars(messages) == [
        ("REQUEST", "REQUEST", 0),
        ("REQUEST", "REQUEST", 1),
        ("CANCEL", "CANCEL", 2),
    ]
    assert [m["Subject"].split(":")[0] for m in messages] == [
        "Potvrda mjesta",
        "Izmjena",
        "Otkazano",
        "Oslobodilo se mjesto za Vas",
    ]
    outcomes = await outcomes_for(service_kafka, rid, 4)
    assert sorted(o["kind"] for o in outcomes) == ["cancellation", "invite", "offer", "update"]
    assert {o["status"] for o in outcomes} == {"sent"}


async def test_a_4xx_is_retried_until_the_server_accepts(
    service_kafka: str, tmp_path: Path
) -> None:
    rid, email = uuid4(), f"amra.{uuid4().hex[:6]}@opcina.example"
    replies = ["451 4.3.0 Try again later", "421 4.7.0 Busy"]
    async with notifier(service_kafka, tmp_path, data_replies=replies) as (server, publish):
        await publish(event(SeatAssignedV1, rid, email))
        await until(lambda: len(parsed(server, email)) == 1)
    outcomes = await outcomes_for(service_kafka, rid, 3)
    assert [(o["status"], o["attempt"]) for o in outcomes] == [
        ("deferred", 1),
        ("deferred", 2),
        ("sent", 3),
    ]
    assert server.data_replies == []


async def test_a_5xx_fails_at_once(service_kafka: str, tmp_path: Path) -> None:
    rid, email = uuid4(), f"amra.{uuid4().hex[:6]}@opcina.example"
    replies = ["554 5.7.1 Rejected", "250 would have accepted a retry"]
    async with notifier(service_kafka, tmp_path, data_replies=replies) as (server, publish):
        await publish(event(SeatAssignedV1, rid, email))
        [outcome] = await outcomes_for(service_kafka, rid, 1)
    store = SqlNotificationStore(f"sqlite+aiosqlite:///{tmp_path / 'notifier.sqlite3'}")
    stored = await store.get(outcome["notification_key"])
    await store.dispose()
    assert stored is not None
    assert (stored.status, stored.attempts) == (
        "failed",
        1,
    )
    assert (outcome["status"], outcome["attempt"]) == ("failed", 1)
    assert outcome["detail"].startswith("SMTP 554")
    assert parsed(server, email) == []
    assert server.data_replies == ["250 would have accepted a retry"]  # never asked again
