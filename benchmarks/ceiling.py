"""The ceiling: a raw aiokafka relay with no business logic, on the same broker and SMTP sink.

produce -> topic A -> consume, produce -> topic B -> consume, SMTP send. Producers use the same
durability as the services (acks=all, idempotent); consumers commit after their step, like ours.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from benchmarks.sink import TimingSink

IN_FLIGHT = 32  # as many as the HTTP driver keeps in flight against the API


def producer(bootstrap: str) -> AIOKafkaProducer:
    """A producer as durable as the services' ones."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)


async def make_topics(bootstrap: str, *names: str) -> None:
    """Create the relay's topics with as many partitions as the system's (3)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(n, num_partitions=3, replication_factor=1) for n in names]
        )
    finally:
        await admin.close()


async def forward(bootstrap: str, source: str, target: str, count: int) -> None:
    """Consume `count` records from `source`, produce each to `target`, commit per batch."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"{source}-relay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    out = producer(bootstrap)
    await consumer.start()
    await out.start()
    try:
        done = 0
        while done < count:
            batch = await consumer.getmany(timeout_ms=200)
            records = [r for part in batch.values() for r in part]
            sends = [await out.send(target, r.value, key=r.key) for r in records]
            await asyncio.gather(*sends)
            await consumer.commit()
            done += len(records)
    finally:
        await consumer.stop()
        await out.stop()


async def mail_out(bootstrap: str, source: str, count: int, smtp_port: int) -> None:
    """Consume `count` records from `source` and send each as an email over one SMTP connection."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"{source}-mailer",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port)
    await consumer.start()
    await smtp.connect()
    try:
        done = 0
        while done < count:
            batch = await consumer.getmany(timeout_ms=200)
            for record in (r for part in batch.values() for r in part):
                message = EmailMessage()
                message["From"], message["To"] = "bench@example.org", record.value.decode()
                message["Subject"] = "ceiling"
                message.set_content("relay")
                await smtp.send_message(message)
                done += 1
            await consumer.commit()
    finally:
        await consumer.stop()
        await smtp.quit()


@dataclass(frozen=True)
class Relayed:
    """One run of the relay: messages per second, and each message's latency (seconds)."""

    rate: float
    latencies: list[float]


async def run_ceiling(bootstrap: str, sink: TimingSink, count: int) -> Relayed:
    """Relay `count` messages through fresh topics; their rate and latencies."""
    run = uuid.uuid4().hex[:8]
    first, second = f"ceiling-a-{run}", f"ceiling-b-{run}"
    await make_topics(bootstrap, first, second)
    relays = [
        asyncio.create_task(forward(bootstrap, first, second, count)),
        asyncio.create_task(mail_out(bootstrap, second, count, sink.port)),
    ]
    source = producer(bootstrap)
    await source.start()
    sent_at: dict[str, float] = {}
    started = time.perf_counter()
    in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def send(index: int) -> None:
        address = f"ceiling-{run}-{index}@bench.example"
        async with in_flight:
            sent_at[address] = time.perf_counter()
            await source.send_and_wait(first, address.encode(), key=str(index).encode())

    try:
        await asyncio.gather(*(send(index) for index in range(count)))
    finally:
        await source.stop()
    await asyncio.gather(*relays)
    latencies = [sink.accepted_at[a] - t for a, t in sent_at.items() if a in sink.accepted_at]
    finished = max(sink.accepted_at[a] for a in sent_at if a in sink.accepted_at)
    return Relayed(count / (finished - started), latencies)
