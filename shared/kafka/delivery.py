"""One place decides what happens to a consumed message: handled, retried, or dead-lettered."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from faststream._internal.middlewares import BaseMiddleware
from faststream.message import StreamMessage
from pydantic import ValidationError

from shared import topics
from shared.kafka.retry import RetryPolicy
from shared.privacy import redact_text

log = structlog.stdlib.get_logger("shared.kafka.delivery")
Sleep = Callable[[float], Awaitable[None]]


class PermanentError(Exception):
    """An error that retrying cannot fix: the message is dead-lettered at once."""


def describe_validation_error(error: ValidationError) -> str:
    """Say which fields failed and why, without echoing their values."""
    parts = []
    for item in error.errors(include_input=False, include_url=False, include_context=False):
        where = ".".join(str(p) for p in item["loc"]) or "<message>"
        parts.append(f"{where}: {item['msg']}")
    return "invalid event: " + "; ".join(parts)


def where_of(record: ConsumerRecord[Any, Any]) -> dict[str, Any]:
    """A record's coordinates, for log lines."""
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[None]:
    """Bind a message's correlation id to every log line written while it is handled."""
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
        yield  # an enclosing binding (a batch's) comes back afterwards


@dataclass(frozen=True)
class Delivery:
    """The retry and dead-letter policy for one consumer group, applied to one record at a time."""

    policy: RetryPolicy
    sleep: Sleep
    rng: Callable[[], float]
    broker: Any
    group: str

    async def run(
        self, handle: Callable[[], Awaitable[Any]], record: ConsumerRecord[Any, Any]
    ) -> Any:
        """Run `handle` for `record`, retrying with backoff, then dead-letter it; never drop it."""
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return await handle()
            except ValidationError as error:
                return await self.dead_letter(record, describe_validation_error(error), attempt)
            except PermanentError as error:
                return await self.dead_letter(record, redact_text(str(error)), attempt)
            except Exception as error:
                reason = f"{type(error).__name__}: {redact_text(str(error))}"
                if attempt == self.policy.attempts:
                    return await self.dead_letter(record, reason, attempt)
                delay = self.policy.delay(attempt, self.rng)
                log.warning(
                    "message.retry",
                    **where_of(record),
                    attempt=attempt,
                    delay_s=round(delay, 3),
                    error=reason,
                )
                await self.sleep(delay)
        return None

    async def dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, attempts: int
    ) -> None:
        """Publish the record to `<topic>.dlq` with why; if that fails, raise (no commit)."""
        headers = {
            k: v.decode(errors="replace")
            for k, v in (record.headers or ())
            if k != "correlation_id"
        }
        headers.update(
            {
                "x-dead-letter-reason": reason[:1000],
                "x-consumer-group": self.group,
                "x-original-topic": record.topic,
                "x-original-partition": str(record.partition),
                "x-original-offset": str(record.offset),
                "x-attempts": str(attempts),
            }
        )
        correlation_id = dict(record.headers or ()).get("correlation_id", b"").decode() or None
        await self.broker.publish(
            record.value,
            topics.dead_letter(record.topic),
            key=record.key,
            headers=headers,
            correlation_id=correlation_id,
        )
        log.error(
            "message.dead_lettered",
            **where_of(record),
            group=self.group,
            attempts=attempts,
            reason=reason,
        )


_in_charge: ContextVar[Delivery | None] = ContextVar("delivery_in_charge", default=None)


def delivery_in_charge() -> Delivery:
    """The delivery policy of the batch being handled (set by the DeliveryGuard around it)."""
    delivery = _in_charge.get()
    if delivery is None:
        raise RuntimeError("no DeliveryGuard is handling a batch here")
    return delivery


class DeliveryGuard(BaseMiddleware):
    """Retry a failing handler with backoff, then dead-letter; never let a message vanish.

    Commit-after-success comes from the subscriber's ack policy (see `subscriber_options`):
    when this guard returns, the offset is committed; if even dead-lettering fails it raises,
    and the message is sought back and redelivered. A batch is handed to its handler whole,
    with this policy in charge (`delivery_in_charge`), for it to apply per record
    (`shared.kafka.batches`).
    """

    def __init__(
        self,
        msg: Any,
        /,
        *,
        context: Any,
        policy: RetryPolicy,
        sleep: Sleep,
        rng: Callable[[], float],
    ) -> None:
        super().__init__(msg, context=context)
        self.policy, self.sleep, self.rng = policy, sleep, rng

    @classmethod
    def factory(
        cls,
        policy: RetryPolicy | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> Callable[..., DeliveryGuard]:
        """Return a middleware factory for `KafkaBroker(middlewares=[...])`."""
        return functools.partial(cls, policy=policy or RetryPolicy(), sleep=sleep, rng=rng)

    async def consume_scope(
        self, call_next: Callable[..., Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        """Run the handler under the retry and dead-letter policy."""
        group = getattr(self.context.get("handler_"), "group_id", None) or ""
        delivery = Delivery(self.policy, self.sleep, self.rng, self.context.get("broker"), group)
        if isinstance(msg.raw_message, tuple | list):  # a batch: its handler applies it per record
            token = _in_charge.set(delivery)
            try:
                return await call_next(msg)
            finally:
                _in_charge.reset(token)
        with correlated(msg.correlation_id):
            return await delivery.run(lambda: call_next(msg), msg.raw_message)
