"""Poison messages on the system's topics are dead-lettered with a reason; the stream flows on."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from shared import topics
from tests.faults.harness import PROGRAMME, World, assert_exactly_once, settled

pytestmark = pytest.mark.faults


def poison_bodies(marker: str) -> list[bytes]:
    """Not JSON, JSON of the wrong shape, and a well-formed event for a programme that does not exist."""
    unknown_programme = {
        "event_id": str(uuid.uuid4()),
        "event_type": "registration.submitted",
        "event_version": 1,
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "correlation_id": marker,
        "producer": "faults",
        "registration_id": str(uuid.uuid4()),
        "programme_id": "no-such-programme",
        "registrant": {
            "full_name": "Poison Test",
            "email": "poison@example.org",
            "organisation": "Nowhere",
        },
    }
    return [
        b"\x00\xffnot json",
        json.dumps({"hello": marker}).encode(),
        json.dumps(unknown_programme).encode(),
    ]


async def publish_poison(bootstrap: str, marker: str) -> int:
    """Put the poison bodies on registrations.v1 (programme key) and placements.v1."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = 0
        for body in poison_bodies(marker):
            await producer.send_and_wait(topics.REGISTRATIONS, body, key=PROGRAMME.encode())
            await producer.send_and_wait(topics.PLACEMENTS, body, key=marker.encode())
            sent += 1
        return sent
    finally:
        await producer.stop()


def originals(dead_letters: list[Any]) -> set[tuple[bytes, bytes]]:
    """The (partition, offset) of the original message behind each dead letter."""
    return {
        (dict(r.headers)["x-original-partition"], dict(r.headers)["x-original-offset"])
        for r in dead_letters
    }


async def test_poison_messages_are_dead_lettered_and_the_stream_flows_on(world: World) -> None:
    marker = f"poison-{uuid.uuid4().hex[:8]}"
    await world.submit([world.registrant("before-poison", i) for i in range(4)])
    count = await publish_poison(world.bootstrap, marker)
    await world.submit([world.registrant("after-poison", i) for i in range(8)])
    seen = await settled(world)  # includes: every consumer group's lag is back to zero
    assert_exactly_once(world, seen)
    registrations_dlq = seen.dead_letters[topics.dead_letter(topics.REGISTRATIONS)]
    # Every group consuming a topic (scheduler; notifier for erasures) dead-letters what it cannot read.
    assert len(originals(registrations_dlq)) == count, "each poison message is dead-lettered"
    placements_dlq = [
        r
        for r in seen.dead_letters[topics.dead_letter(topics.PLACEMENTS)]
        if r.key == marker.encode()
    ]
    assert len(originals(placements_dlq)) == count
    for record in registrations_dlq + placements_dlq:
        headers = dict(record.headers)
        assert headers["x-dead-letter-reason"], "a dead letter names its reason"
        assert b"poison@example.org" not in headers["x-dead-letter-reason"]
