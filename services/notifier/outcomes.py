"""The OutcomePublisher over Kafka: outcomes keyed by registration id, like placements."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from shared import topics
from shared.contracts import NotificationOutcomeV1
from shared.kafka import publish_event


class KafkaOutcomePublisher:
    """Publishes notification outcomes to `topics.NOTIFICATIONS`."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def publish(self, outcome: NotificationOutcomeV1) -> None:
        """Publish and wait for the broker's acknowledgement."""
        await publish_event(
            self._broker, topics.NOTIFICATIONS, outcome, key=str(outcome.registration_id)
        )
