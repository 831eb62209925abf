"""The delivery policy on the real broker: poison messages dead-letter, uncommitted work comes back."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import BaseModel

from shared.kafka import DeliveryGuard, RetryPolicy, make_broker, subscriber_options
from shared.kafka.admin import ensure_topics
from shared.topics import TopicSpec, dead_letter

pytestmark = pytest.mark.integration


class Ping(BaseModel):
    """A tiny event for the tests."""

    n: int


async def no_sleep(_: float) -> None:
    """Backoff without waiting (the policy itself is unit-tested)."""


def fresh_topic() -> str:
    return f"it-{uuid.uuid4().hex[:8]}"


async def read_all(bootstrap: str, topic: str, count: int, wait_s: float = 20.0) -> list[object]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        records: list[object] = []
        async with asyncio.timeout(wait_s):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=500)
                records.extend(r for rs in batch.values() for r in rs)
        return records
    finally:
        await consumer.stop()


async def test_poison_message_goes_to_dead_letter_and_the_next_one_is_handled(
    kafka_bootstrap: str,
) -> None:
    topic = fresh_topic()
    await ensure_topics(kafka_bootstrap, (TopicSpec(topic, 1), TopicSpec(dead_letter(topic), 1)))
    handled: asyncio.Queue[int] = asyncio.Queue()
    broker = make_broker(
        kafka_bootstrap,
        client_id="it",
        guard=DeliveryGuard.factory(RetryPolicy(attempts=2), sleep=no_sleep),
    )

    @broker.subscriber(topic, **subscriber_options(f"g-{topic}"))
    async def handle(event: Ping) -> None:
        await handled.put(event.n)

    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    await producer.send_and_wait(topic, b"\x00not json at all")
    await producer.send_and_wait(
        topic, b'{"n": 7}', headers=[("content-type", b"application/json")]
    )
    await producer.stop()
    async with broker:
        await broker.start()
        assert await asyncio.wait_for(handled.get(), 30) == 7
    [record] = await read_all(kafka_bootstrap, dead_letter(topic), 1)
    headers = dict(record.headers)  # type: ignore[attr-defined]
    assert record.value == b"\x00not json at all"  # type: ignore[attr-defined]
    assert headers["x-original-offset"] == b"0"
    assert headers["x-dead-letter-reason"].startswith(b"invalid event")


async def test_a_message_whose_handler_never_finished_is_redelivered(kafka_bootstrap: str) -> None:
    topic = fresh_topic()
    await ensure_topics(kafka_bootstrap, (TopicSpec(topic, 1), TopicSpec(dead_letter(topic), 1)))
    seen: asyncio.Queue[int] = asyncio.Queue()
    hang = asyncio.Event()

    def build() -> object:
        broker = make_broker(kafka_bootstrap, client_id="it")

        @broker.subscriber(topic, **subscriber_options(f"g-{topic}"))
        async def handle(event: Ping) -> None:
            await seen.put(event.n)
            if not hang.is_set():
                hang.set()
                await asyncio.Event().wait()  # "crash" mid-handler: never returns, never commits

        return broker

    first = build()
    async with first:  # type: ignore[attr-defined]
        await first.start()  # type: ignore[attr-defined]
        await first.publish({"n": 1}, topic)  # type: ignore[attr-defined]
        assert await asyncio.wait_for(seen.get(), 30) == 1
    second = build()
    async with second:  # type: ignore[attr-defined]
        await second.start()  # type: ignore[attr-defined]
        assert await asyncio.wait_for(seen.get(), 60) == 1, "the uncommitted message must come back"
