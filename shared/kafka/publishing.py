"""Publish events with their correlation id and type in Kafka headers."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker

from shared.contracts import Event


async def publish_event(broker: KafkaBroker, topic: str, event: Event, *, key: str) -> Any:
    """Publish `event` keyed by `key`, and wait until the broker has durably acknowledged it."""
    return await broker.publish(
        event,
        topic,
        key=key.encode(),
        correlation_id=event.correlation_id,
        headers={"event_type": event.event_type, "event_version": str(event.event_version)},
    )
