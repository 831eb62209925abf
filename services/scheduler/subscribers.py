"""The scheduler's Kafka edge: the registrations stream, consumed in batches."""

from __future__ import annotations

import functools
from collections.abc import Callable

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import TypeAdapter

from services.scheduler import handlers
from shared import topics
from shared.contracts import (
    CancellationRequestedV1,
    ErasureRequestedV1,
    OfferAnsweredV1,
    RegistrationStreamEvent,
    RegistrationSubmittedV1,
)
from shared.kafka import batch_subscriber_options, consume_batch

STREAM: TypeAdapter[RegistrationStreamEvent] = TypeAdapter(RegistrationStreamEvent)
BATCH_SIZE = 200


async def route(event: RegistrationStreamEvent, deps: handlers.Deps) -> None:
    """Send each kind of request to its use case."""
    match event:
        case RegistrationSubmittedV1():
            await handlers.place_registration(event, deps)
        case CancellationRequestedV1():
            await handlers.cancel_registration(event, deps)
        case OfferAnsweredV1():
            await handlers.answer_offer(event, deps)
        case ErasureRequestedV1():
            await handlers.erase_registration(event, deps)


def register(broker: KafkaBroker, deps: Callable[[], handlers.Deps]) -> None:
    """Subscribe the scheduler to the registrations stream; `deps` yields the started runtime."""

    async def on_registration_batch(_: list[bytes], message: KafkaMessage) -> None:
        started = deps()
        await consume_batch(
            message.raw_message,
            STREAM,
            handle_many=functools.partial(handlers.handle_batch, deps=started),
            handle_one=functools.partial(route, deps=started),
        )

    options = batch_subscriber_options(handlers.SERVICE, max_records=BATCH_SIZE)
    # Applied as a call, not `@`: `**options` hides the overloads from mypy.
    broker.subscriber(topics.REGISTRATIONS, **options)(on_registration_batch)
