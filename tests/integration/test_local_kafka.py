"""The local broker launcher against a real Kafka process: durability, restarts, clean stops."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from deploy.kafka.launcher import LocalKafka

pytestmark = pytest.mark.integration

TOPIC = "launcher.check"


@pytest.fixture
def kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    broker = LocalKafka(tmp_path / "kafka")
    broker.start()
    yield broker
    broker.stop()


async def produce(bootstrap: str, value: bytes) -> TopicPartition:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = await producer.send_and_wait(TOPIC, value, key=b"k")
        return TopicPartition(TOPIC, sent.partition)
    finally:
        await producer.stop()


async def consume_first(bootstrap: str, group: str, *, commit: bool) -> bytes:
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
        if commit:
            await consumer.commit()
        return bytes(record.value or b"")
    finally:
        await consumer.stop()


async def committed_offset(bootstrap: str, group: str, partition: TopicPartition) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        offset = await consumer.committed(partition)
        return None if offset is None else int(offset)
    finally:
        await consumer.stop()


async def test_produce_and_consume_back(kafka: LocalKafka) -> None:
    await produce(kafka.bootstrap_servers, b"hello")
    assert await consume_first(kafka.bootstrap_servers, "g1", commit=False) == b"hello"


async def test_kill_then_start_keeps_acked_data_and_address(kafka: LocalKafka) -> None:
    address = kafka.bootstrap_servers
    partition = await produce(address, b"durable")
    assert await consume_first(address, "g-before", commit=True) == b"durable"

    kafka.kill()
    kafka.start()

    assert kafka.bootstrap_servers == address
    assert await consume_first(address, "g-after", commit=False) == b"durable"
    assert await committed_offset(address, "g-before", partition) == 1


def test_new_launcher_on_same_data_dir_reuses_ports(kafka: LocalKafka) -> None:
    kafka.stop()
    again = LocalKafka(kafka.data_dir)
    assert again.bootstrap_servers == kafka.bootstrap_servers


async def test_pause_and_resume_keep_serving(kafka: LocalKafka) -> None:
    kafka.pause()
    kafka.resume()
    await produce(kafka.bootstrap_servers, b"after-pause")
    assert await consume_first(kafka.bootstrap_servers, "g-pause", commit=False) == b"after-pause"


def test_stop_leaves_no_java_process(kafka: LocalKafka) -> None:
    pid = kafka.pid
    assert pid is not None
    kafka.stop()
    kafka.stop()  # idempotent
    assert kafka.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_relative_data_dir_starts_as_make_kafka_gives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    broker = LocalKafka(Path("data/kafka"))
    broker.start()
    try:
        await produce(broker.bootstrap_servers, b"relative")
        assert await consume_first(broker.bootstrap_servers, "g-rel", commit=False) == b"relative"
    finally:
        broker.stop()
