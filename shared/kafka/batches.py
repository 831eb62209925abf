"""Batch consumption with the single-message guarantees: all at once when it works, else one by one.

A batch handler does the work of many records in one go (one transaction, one commit, one publish).
The consumer commits only after it returned. Records that do not validate are dead-lettered first,
each with its reason. If the whole batch fails, nothing of it was committed (the handler must be
atomic, or idempotent per record), and every record is handled again on its own under the usual
retry and dead-letter policy: one bad record never holds back, loses or doubles the others.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias, TypeVar

import structlog
from aiokafka import ConsumerRecord
from faststream.message import StreamMessage
from pydantic import TypeAdapter, ValidationError

from shared.contracts import TRUSTED
from shared.kafka.broker import subscriber_options
from shared.kafka.delivery import correlated, delivery_in_charge, describe_validation_error

T = TypeVar("T")
log = structlog.stdlib.get_logger("shared.kafka.batches")
Record: TypeAlias = ConsumerRecord[Any, Any]


async def raw_bodies(message: StreamMessage[Any]) -> Any:
    """Leave a batch's bodies undecoded: `consume_batch` validates (and dead-letters) each record."""
    return message.body


GATHER_BYTES = 256 * 1024  # more than a batch of events: under load a fetch fills it at once


def batch_subscriber_options(
    group_id: str, *, max_records: int = 200, wait_ms: int = 20, gather_ms: int = 0
) -> dict[str, Any]:
    """Subscriber options for a batch handler: up to `max_records`, waiting at most `wait_ms`.

    With `gather_ms`, the broker holds each fetch until `GATHER_BYTES` have come in or
    `gather_ms` have passed: at a moderate rate a handler whose every call costs much (a
    transaction, a publish, an offset commit) then runs once per `gather_ms` instead of once per
    event or two; under load the bytes are there at once and nothing waits.
    """
    gather = {"fetch_min_bytes": GATHER_BYTES, "fetch_max_wait_ms": gather_ms} if gather_ms else {}
    return {
        **subscriber_options(group_id),
        "batch": True,
        "max_records": max_records,
        "batch_timeout_ms": wait_ms,
        "decoder": raw_bodies,
        **gather,
    }


async def consume_batch(
    records: Sequence[Record],
    adapter: TypeAdapter[T],
    *,
    handle_many: Callable[[list[T]], Awaitable[None]],
    handle_one: Callable[[T], Awaitable[None]],
    only: frozenset[str] | None = None,
) -> None:
    """Validate each record, handle the valid ones together, fall back to one by one on failure.

    Records are our services' events: validated in the `TRUSTED` context (addresses by shape).

    With `only`, a record whose `event_type` header names another type is passed over undecoded
    (a record without the header is decoded as usual).
    """
    delivery = delivery_in_charge()
    valid: list[tuple[Record, T]] = []
    for record in records:
        if only is not None and _header(record, "event_type") not in (None, *only):
            continue
        try:
            valid.append((record, adapter.validate_json(record.value or b"", context=TRUSTED)))
        except ValidationError as error:
            await delivery.dead_letter(record, describe_validation_error(error), 1)
    if not valid:
        return
    try:
        await handle_many([event for _, event in valid])
    except Exception as error:
        log.warning("batch.fallback", size=len(valid), error=type(error).__name__)
        for record, event in valid:
            with correlated(_header(record, "correlation_id") or None):
                await delivery.run(functools.partial(handle_one, event), record)


def _header(record: Record, name: str) -> str | None:
    """A header of the record as text, or None without it."""
    value = dict(record.headers or ()).get(name)
    return bytes(value).decode(errors="replace") if value is not None else None
