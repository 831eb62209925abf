"""Outcome events: built with a deterministic id, published to Kafka keyed by recipient."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

from faststream.kafka import KafkaBroker

from services.notifier.notices import Notice
from services.notifier.ports import OutcomePublisher
from shared import topics
from shared.contracts import NotificationOutcomeV1
from shared.contracts.envelope import envelope
from shared.kafka import publish_event
from shared.logging import get_logger

log = get_logger("services.notifier.outcomes")

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
        session_id=notice.session_id or None,  # None for a notice about the waitlist
        channel=notice.channel,
        kind=notice.kind,
        status=status,
        attempt=max(1, attempt),
        detail=detail[:500] if detail else None,
    )


async def publish_in_order(
    publisher: OutcomePublisher, outcomes: Sequence[NotificationOutcomeV1]
) -> list[UUID]:
    """Publish all at once, in order per registration (its Kafka key); the acknowledged ids.

    Each registration's outcomes go one after another and stop at its first failure, so a later
    outcome never overtakes an earlier one; different registrations do not wait for each other.
    """
    by_key: dict[UUID, list[NotificationOutcomeV1]] = defaultdict(list)
    for outcome in outcomes:
        by_key[outcome.registration_id].append(outcome)
    acked = await asyncio.gather(*(_in_turn(publisher, run) for run in by_key.values()))
    return [event_id for run in acked for event_id in run]


async def _in_turn(
    publisher: OutcomePublisher, outcomes: list[NotificationOutcomeV1]
) -> list[UUID]:
    acked = []
    for outcome in outcomes:
        try:
            await publisher.publish(outcome)
        except Exception as error:  # stays in the outbox; a later round tries again
            log.warning("outcome.publish_deferred", error=type(error).__name__)
            break
        acked.append(outcome.event_id)
    return acked


class KafkaOutcomePublisher:
    """Publishes notification outcomes to `topics.NOTIFICATIONS`."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def publish(self, outcome: NotificationOutcomeV1) -> None:
        """Publish and wait for the broker's acknowledgement."""
        await publish_event(
            self._broker, topics.NOTIFICATIONS, outcome, key=str(outcome.registration_id)
        )
