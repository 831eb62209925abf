"""Read what the system did from the outside: its Kafka topics and its consumer groups' lag."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared import topics

DECISIONS = {"seat.assigned", "registration.waitlisted"}


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The partitions of `topic` (none when it does not exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [TopicPartition(topic, p["partition"]) for p in description.get("partitions", ())]


async def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every record of `topic` from the beginning up to its current end."""
    assigned = await partitions_of(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        if not assigned:
            return []
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        records: list[Any] = []
        while any([await consumer.position(tp) < ends[tp] for tp in assigned]):
            batch = await consumer.getmany(timeout_ms=1000)
            records.extend(r for part in batch.values() for r in part)
        return records
    finally:
        await consumer.stop()


async def consumer_lag(bootstrap: str) -> dict[str, int]:
    """Messages each consumer group has not committed yet, summed over its partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        lag: dict[str, int] = {}
        for group, _protocol in await admin.list_consumer_groups():
            committed = await admin.list_consumer_group_offsets(group)
            ends = await consumer.end_offsets(list(committed))
            lag[group] = sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items())
        return lag
    finally:
        await consumer.stop()
        await admin.close()


@dataclass
class Downstream:
    """The placement decisions and notification outcomes seen on the topics."""

    decision_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    seats: dict[str, str] = field(default_factory=dict)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    dead_letters: dict[str, list[Any]] = field(default_factory=dict)

    def outcomes_with(self, status: str, registration_ids: Iterable[str]) -> list[str]:
        """The registrations among `registration_ids` with at least one outcome of `status`."""
        return [r for r in registration_ids if self.outcomes[(r, status)]]

    def assigned_per_session(self) -> Counter[str]:
        """How many distinct registrants hold a seat in each session."""
        return Counter(self.seats.values())


def parsed(value: bytes) -> dict[str, Any]:
    """A record's JSON object, or an empty one for what is not (poison is the system's to handle)."""
    try:
        event = json.loads(value)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


async def downstream(bootstrap: str) -> Downstream:
    """Collect decisions from placements.v1, outcomes from notifications.v1, and the DLQs."""
    seen = Downstream()
    for record in await read_topic(bootstrap, topics.PLACEMENTS):
        event = parsed(record.value)
        if event.get("event_type") not in DECISIONS:
            continue
        registration_id = event["registration_id"]
        seen.decision_ids[registration_id].add(event["event_id"])
        if event["event_type"] == "seat.assigned":
            seen.seats[registration_id] = event["session"]["session_id"]
    for record in await read_topic(bootstrap, topics.NOTIFICATIONS):
        event = parsed(record.value)
        if "status" not in event:
            continue
        seen.outcomes[(event["registration_id"], event["status"])] += 1
    for spec in topics.MAIN_TOPICS:
        dlq = topics.dead_letter(spec.name)
        seen.dead_letters[dlq] = await read_topic(bootstrap, dlq)
    return seen
