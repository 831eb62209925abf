"""The notifier as it runs: real Kafka in, real SMTP out, outcomes back on Kafka."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer
from aiosmtpd.controller import Controller
from faststream import TestApp

from services.notifier.main import create_app
from services.notifier.settings import NotifierSettings
from shared import topics
from shared.contracts import SeatAssignedV1
from shared.kafka import make_broker, publish_event

pytestmark = pytest.mark.integration


@dataclass
class Inbox:
    """An aiosmtpd handler keeping every accepted message."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message and accept it."""
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seat_for(email: str) -> SeatAssignedV1:
    """A one-day session in Sarajevo for a fresh registration."""
    return SeatAssignedV1.model_validate(
        {
            "event_id": str(uuid4()),
            "occurred_at": "2026-05-04T08:00:00Z",
            "correlation_id": f"it-{uuid4().hex[:8]}",
            "producer": "scheduler",
            "registration_id": str(uuid4()),
            "programme_id": "bih-2026",
            "session": {
                "session_id": "bih-sa-09",
                "programme_id": "bih-2026",
                "title": "Strateško planiranje",
                "mode": "in_person",
                "timezone": "Europe/Sarajevo",
                "days": [{"starts_at": "2026-09-15T07:00:00Z", "ends_at": "2026-09-15T14:00:00Z"}],
                "venue": {"name": "Vijećnica", "city": "Sarajevo"},
                "language": "bs",
            },
            "attendee": {
                "full_name": "Amra Hodžić",
                "email": email,
                "organisation": "Općina Centar",
                "language": "bs",
            },
            "revision": 1,
            "reason": "first choice",
        }
    )


async def outcomes_for(bootstrap: str, registration_id: str, count: int) -> list[dict[str, Any]]:
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
                found += [v for v in values if v["registration_id"] == registration_id]
    finally:
        await consumer.stop()
    return found


async def test_a_seat_on_kafka_becomes_one_email_and_a_sent_outcome(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = NotifierSettings(
        kafka_bootstrap_servers=kafka_bootstrap, data_dir=tmp_path, smtp_port=smtp.port
    )
    event = seat_for(f"amra.{uuid4().hex[:6]}@opcina.example")
    try:
        async with TestApp(create_app(settings)):
            producer = make_broker(kafka_bootstrap, client_id="it-scheduler")
            async with producer:
                await producer.start()
                for _ in range(2):  # the second is a redelivery
                    await publish_event(
                        producer, topics.PLACEMENTS, event, key=str(event.registration_id)
                    )
            # The redelivery republishes the same outcome: once both are there, both were handled.
            first, again = await outcomes_for(kafka_bootstrap, str(event.registration_id), 2)
    finally:
        smtp.stop()
    [message] = [
        m for m in inbox.messages if m["To"].addresses[0].addr_spec == event.attendee.email
    ]
    assert message["Subject"] == "Potvrda mjesta: Strateško planiranje"
    assert (first["status"], first["correlation_id"]) == ("sent", event.correlation_id)
    assert again["event_id"] == first["event_id"]  # a republished outcome dedupes downstream
