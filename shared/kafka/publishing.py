"""Publish events with their correlation id and type in Kafka headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class StoredEvent:
    """An event already serialised (e.g. in an outbox), with where it goes."""

    topic: str
    key: str
    event_json: str


async def publish_stored(broker: KafkaBroker, events: Sequence[StoredEvent]) -> None:
    """Publish serialised events in order, then wait for every acknowledgement (acks=all).

    The bytes go out as stored (not parsed into models again); the headers are those of
    `publish_event`. Appends happen one after the other, so the idempotent producer keeps their
    order per partition; the acknowledgements are awaited together. Raises if any was refused.
    """
    pending = []
    for stored in events:
        envelope = json.loads(stored.event_json)
        sent = await broker.publish(
            stored.event_json.encode(),
            stored.topic,
            key=stored.key.encode(),
            correlation_id=envelope["correlation_id"],
            headers={
                "content-type": "application/json",
                "event_type": envelope["event_type"],
                "event_version": str(envelope["event_version"]),
            },
            no_confirm=True,
        )
        if sent is not None:  # the in-memory test broker delivers at once and returns nothing
            pending.append(sent)
    await asyncio.gather(*pending)
