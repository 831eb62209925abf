"""Outcome events: built with a deterministic id, published to Kafka keyed by recipient."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from faststream.kafka import KafkaBroker

from services.notifier.notices import Notice
from shared import topics
from shared.contracts import NotificationOutcomeV1
from shared.contracts.envelope import envelope
from shared.kafka import publish_event

PRODUCER = "notifier"
OUTCOME_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "outcomes.notifier.trainingops")
OutcomeStatus = Literal["sent", "deferred", "failed"]


def outcome_of(
    notice: Notice, status: OutcomeStatus, *, attempt: int, now: datetime, detail: str | None
) -> NotificationOutcomeV1:
    """The outcome event; its id is derived from key, status and attempt, so a republish dedupes."""
    event_id = uuid.uuid5(OUTCOME_NAMESPACE, f"{notice.key}:{status}:{attempt}")
    return NotificationOutcomeV1(
        **envelope(
            producer=PRODUCER, correlation_id=notice.correlation_id, now=now, event_id=event_id
        ),
        notification_key=notice.key,
        registration_id=notice.recipient_id,
        session_id=notice.session.session_id,
        channel=notice.channel,
        kind=notice.kind,
        status=status,
        attempt=max(1, attempt),
        detail=detail[:500] if detail else None,
    )


class KafkaOutcomePublisher:
    """Publishes notification outcomes to `topics.NOTIFICATIONS`."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def publish(self, outcome: NotificationOutcomeV1) -> None:
        """Publish and wait for the broker's acknowledgement."""
        await publish_event(
            self._broker, topics.NOTIFICATIONS, outcome, key=str(outcome.registration_id)
        )
