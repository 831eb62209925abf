"""One place decides what happens to a consumed message: handled, retried, or dead-lettered."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
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


class DeliveryGuard(BaseMiddleware):
    """Retry a failing handler with backoff, then dead-letter; never let a message vanish.

    Commit-after-success comes from the subscriber's ack policy (see `subscriber_options`):
    when this guard returns, the offset is committed; if even dead-lettering fails it raises,
    and the message is sought back and redelivered.
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
        record = msg.raw_message
        structlog.contextvars.bind_contextvars(correlation_id=msg.correlation_id)
        where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        try:
            return await self._attempt(call_next, msg, where)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id")

    async def _attempt(
        self,
        call_next: Callable[..., Awaitable[Any]],
        msg: StreamMessage[Any],
        where: dict[str, Any],
    ) -> Any:
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return await call_next(msg)
            except ValidationError as error:
                return await self._dead_letter(
                    msg, where, describe_validation_error(error), attempt
                )
            except PermanentError as error:
                return await self._dead_letter(msg, where, redact_text(str(error)), attempt)
            except Exception as error:
                reason = f"{type(error).__name__}: {redact_text(str(error))}"
                if attempt == self.policy.attempts:
                    return await self._dead_letter(msg, where, reason, attempt)
                delay = self.policy.delay(attempt, self.rng)
                log.warning(
                    "message.retry", **where, attempt=attempt, delay_s=round(delay, 3), error=reason
                )
                await self.sleep(delay)
        return None

    async def _dead_letter(
        self, msg: StreamMessage[Any], where: dict[str, Any], reason: str, attempts: int
    ) -> None:
        record = msg.raw_message
        headers = {
            k: v.decode(errors="replace")
            for k, v in (record.headers or ())
            if k != "correlation_id"
        }
        group = getattr(self.context.get("handler_"), "group_id", None) or ""
        headers.update(
            {
                "x-dead-letter-reason": reason[:1000],
                "x-consumer-group": group,
                "x-original-topic": record.topic,
                "x-original-partition": str(record.partition),
                "x-original-offset": str(record.offset),
                "x-attempts": str(attempts),
            }
        )
        broker = self.context.get("broker")
        # If this publish fails the exception propagates: the message is not committed and comes back.
        await broker.publish(
            msg.body,
            topics.dead_letter(record.topic),
            key=record.key,
            headers=headers,
            correlation_id=msg.correlation_id,
        )
        log.error("message.dead_lettered", **where, group=group, attempts=attempts, reason=reason)
