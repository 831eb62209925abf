"""Batch consumption on the real broker: poison and failing records dead-letter, the rest once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka.annotations import KafkaMessage
from pydantic import BaseModel, TypeAdapter

from shared.kafka import (
    DeliveryGuard,
    PermanentError,
    RetryPolicy,
    batch_subscriber_options,
    consume_batch,
    make_broker,
)
from shared.kafka.admin import ensure_topics
from shared.topics import TopicSpec, dead_letter
from tests.integration.shared.test_delivery_on_real_broker import no_sleep, read_all

pytestmark = pytest.mark.integration
BAD = 999


class Ping(BaseModel):
    """A tiny event for the tests."""

    n: int


@asynccontextmanager
async def fresh_topic(
    bootstrap: str, prefix: str
) -> AsyncIterator[tuple[str, str, AIOKafkaProducer]]:
    """A new topic of 2 partitions with its dead-letter topic, a new group id, and a producer."""
    topic, group = f"{prefix}-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, (TopicSpec(topic, 2), TopicSpec(dead_letter(topic), 1)))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        yield topic, group, producer
    finally:
        await producer.stop()  # sends what is still pending first


async def test_a_batch_with_poison_and_a_failing_record_handles_every_other_record_once(
    kafka_bootstrap: str,
) -> None:
    async with fresh_topic(kafka_bootstrap, "it-batch") as (topic, group, producer):
        for n in range(40):
            await producer.send(topic, f'{{"n": {n}}}'.encode(), key=str(n).encode())
        await producer.send(topic, b"\x00poison", key=b"p")
        await producer.send_and_wait(topic, f'{{"n": {BAD}}}'.encode(), key=b"bad")

    handled: list[int] = []  # only what a handler "committed"
    batches: list[int] = []
    all_handled = asyncio.Event()

    async def many(events: list[Ping]) -> None:
        batches.append(len(events))
        if any(e.n == BAD for e in events):
            raise RuntimeError("the transaction of this batch fails")
        handled.extend(e.n for e in events)
        if len(handled) >= 40:
            all_handled.set()

    async def one(event: Ping) -> None:
        if event.n == BAD:
            raise PermanentError("cannot be handled")
        handled.append(event.n)
        if len(handled) >= 40:
            all_handled.set()

    broker = make_broker(
        kafka_bootstrap,
        client_id="it",
        guard=DeliveryGuard.factory(RetryPolicy(attempts=2), sleep=no_sleep),
    )

    @broker.subscriber(topic, **batch_subscriber_options(group, max_records=500, wait_ms=200))
    async def on_batch(_: list[bytes], message: KafkaMessage) -> None:
        await consume_batch(
            message.raw_message, TypeAdapter(Ping), handle_many=many, handle_one=one
        )

    async with broker:
        await broker.start()
        await asyncio.wait_for(all_handled.wait(), 60)
        dead = await read_all(kafka_bootstrap, dead_letter(topic), 2)
    assert sorted(handled) == list(range(40))  # each once, whether in a batch or alone
    assert batches[0] > 1  # they did come as batches
    reasons = sorted(dict(r.headers)["x-dead-letter-reason"][:14] for r in dead)  # type: ignore[attr-defined]
    assert reasons == [b"cannot be hand", b"invalid event:"]
    assert await committed(kafka_bootstrap, topic, group) == await ends(kafka_bootstrap, topic)


async def test_only_the_named_event_types_are_decoded_and_the_rest_passed_over(
    kafka_bootstrap: str,
) -> None:
    async with fresh_topic(kafka_bootstrap, "it-only") as (topic, group, producer):
        for n in range(30):
            kind = (b"ping", b"other", None)[n % 3]
            body = b"\x00not json" if kind == b"other" else f'{{"n": {n}}}'.encode()
            headers = [("event_type", kind)] if kind else []
            await producer.send(topic, body, key=str(n).encode(), headers=headers)

    handled: list[int] = []
    all_handled = asyncio.Event()

    async def many(events: list[Ping]) -> None:
        handled.extend(e.n for e in events)
        if len(handled) >= 20:
            all_handled.set()

    broker = make_broker(kafka_bootstrap, client_id="it")

    options = batch_subscriber_options(group, max_records=500, wait_ms=200)
    broker.subscriber(topic, **options)(pings_to(many, only=frozenset({"ping"})))
    async with broker:
        await broker.start()
        await asyncio.wait_for(all_handled.wait(), 60)
        await asyncio.sleep(0.5)  # a record handled twice would show up by now
    assert sorted(handled) == [n for n in range(30) if n % 3 != 1]  # "ping" and no header
    assert await ends(kafka_bootstrap, dead_letter(topic), partitions=1) == 0  # "other": undecoded
    assert await committed(kafka_bootstrap, topic, group) == await ends(kafka_bootstrap, topic)


async def test_gathering_turns_a_trickle_into_one_batch_where_plain_fetching_takes_it_piecemeal(
    kafka_bootstrap: str,
) -> None:
    async with fresh_topic(kafka_bootstrap, "it-gather") as (topic, _, producer):
        batches: dict[str, list[list[int]]] = {"gathered": [], "plain": []}
        handled = asyncio.Event()
        broker = make_broker(kafka_bootstrap, client_id="it")

        def collecting(found: list[list[int]]) -> Callable[[list[Ping]], Awaitable[None]]:
            async def many(events: list[Ping]) -> None:
                found.append([e.n for e in events])
                handled.set()

            return many

        for name, gather_ms in (("gathered", 2000), ("plain", 0)):
            options = batch_subscriber_options(f"g-{name}-{topic}", gather_ms=gather_ms)
            broker.subscriber(topic, **options)(pings_to(collecting(batches[name])))
        async with broker:
            await broker.start()
            await producer.send_and_wait(topic, b'{"n": -1}', key=b"first")  # both are reading
            await until(lambda: all(batches.values()), handled)
            for n in range(10):  # a trickle: one every 50 ms
                await producer.send_and_wait(topic, f'{{"n": {n}}}'.encode(), key=str(n).encode())
                await asyncio.sleep(0.05)
            await until(lambda: all(sum(map(len, b)) == 11 for b in batches.values()), handled)
    trickle = {name: [b for b in found if b != [-1]] for name, found in batches.items()}
    assert sorted(n for b in trickle["gathered"] for n in b) == list(range(10))
    assert len(trickle["gathered"]) <= 2 < 4 <= len(trickle["plain"])


async def until(
    condition: Callable[[], bool], changed: asyncio.Event, within_s: float = 30
) -> None:
    """Wait until `condition()` holds, looking again each time `changed` is set (within `within_s`)."""
    async with asyncio.timeout(within_s):
        while not condition():
            changed.clear()
            await changed.wait()


def pings_to(
    many: Callable[[list[Ping]], Awaitable[None]], only: frozenset[str] | None = None
) -> Callable[..., Awaitable[None]]:
    """A batch subscriber's handler: the valid pings to `many`, one by one if a batch fails."""

    async def on_batch(_: list[bytes], message: KafkaMessage) -> None:
        await consume_batch(
            message.raw_message,
            TypeAdapter(Ping),
            handle_many=many,
            handle_one=many_of_one(many),
            only=only,
        )

    return on_batch


def many_of_one(many: Callable[[list[Ping]], Awaitable[None]]) -> Callable[[Ping], Awaitable[None]]:
    """The one-by-one handler that hands a single event to the batch handler."""

    async def one(event: Ping) -> None:
        await many([event])

    return one


async def committed(bootstrap: str, topic: str, group: str) -> int:
    """The group's committed offsets, summed over the partitions."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        return sum([(await consumer.committed(TopicPartition(topic, p))) or 0 for p in (0, 1)])
    finally:
        await consumer.stop()


async def ends(bootstrap: str, topic: str, partitions: int = 2) -> int:
    """The end offsets of the topic, summed over the partitions."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()
