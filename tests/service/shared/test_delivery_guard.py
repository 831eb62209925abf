"""The delivery policy in memory: retry with backoff, then dead-letter; invalid events dead-letter at once."""

from __future__ import annotations

from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import BaseModel

from shared.kafka import DeliveryGuard, PermanentError, RetryPolicy, make_broker, subscriber_options

pytestmark = pytest.mark.service


class Ping(BaseModel):
    """A tiny event for the tests."""

    n: int


class Harness:
    """A broker with a guarded subscriber on `in`, a recorder on `in.dlq`, and fake sleeps."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures, self.sleeps, self.handled = failures, list[float](), list[int]()
        self.dead: list[tuple[bytes, dict[str, Any]]] = []
        guard = DeliveryGuard.factory(
            RetryPolicy(attempts=3, base_delay=0.1, jitter=0.0), sleep=self.sleep
        )
        self.broker: KafkaBroker = make_broker("localhost:9092", client_id="t", guard=guard)

        @self.broker.subscriber("in", **subscriber_options("t"))
        async def handle(event: Ping) -> None:
            if self.failures:
                raise self.failures.pop(0)
            self.handled.append(event.n)

        @self.broker.subscriber("in.dlq", group_id="dlq-reader")
        async def dead(message: KafkaMessage) -> None:
            self.dead.append((message.body, dict(message.headers)))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


async def test_success_after_transient_failures_backs_off_and_does_not_dead_letter() -> None:
    harness = Harness([RuntimeError("db locked"), RuntimeError("db locked")])
    async with TestKafkaBroker(harness.broker) as broker:
        await broker.publish({"n": 1}, "in")
    assert harness.handled == [1]
    assert harness.sleeps == [0.1, 0.2]
    assert harness.dead == []


async def test_persistent_failure_is_dead_lettered_with_reason_and_attempts() -> None:
    harness = Harness([RuntimeError("boom")] * 3)
    async with TestKafkaBroker(harness.broker) as broker:
        await broker.publish({"n": 2}, "in", correlation_id="corr-9")
    assert harness.handled == []
    [(body, headers)] = harness.dead
    assert b'"n"' in body
    assert headers["x-attempts"] == "3"
    assert headers["x-dead-letter-reason"] == "RuntimeError: boom"
    assert headers["x-original-topic"] == "in"
    assert headers["x-consumer-group"] == "t", "operators must see which consumer gave up"
    assert headers["correlation_id"] == "corr-9"


async def test_permanent_error_is_dead_lettered_without_retry() -> None:
    harness = Harness([PermanentError("recipient refused")])
    async with TestKafkaBroker(harness.broker) as broker:
        await broker.publish({"n": 3}, "in")
    assert harness.sleeps == []
    [(_, headers)] = harness.dead
    assert headers["x-attempts"] == "1"


async def test_invalid_event_is_dead_lettered_naming_the_field_not_the_value() -> None:
    harness = Harness([])
    async with TestKafkaBroker(harness.broker) as broker:
        await broker.publish({"n": "secret-value@example.org"}, "in")
        await broker.publish({"n": 4}, "in")
    assert harness.handled == [4], "a poison message must not block the next one"
    [(_, headers)] = harness.dead
    reason = headers["x-dead-letter-reason"]
    assert reason.startswith("invalid event: event.n:")
    assert "secret-value" not in reason
