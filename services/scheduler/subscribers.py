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
# Registrations are gathered for up to 100 ms before a batch is decided: each batch costs a
# transaction per programme, an outbox flush, a publish and an offset commit, so at 200 a second
# a batch per event or two took 2.0-2.2 ms of the scheduler's CPU per registration, gathered
# 1.0 ms; the whole system's 10.7-11.3 ms became 9.7-9.8 and the p99 at 200/s 3.7-5.1 s became
# 0.5-1.0 s (`make bench`'s latency run, three interleaved pairs). The cost: 75-80 ms more from
# the API's answer to the decision, at the median.
GATHER_MS = 100


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

    options = batch_subscriber_options(
        handlers.SERVICE, max_records=BATCH_SIZE, gather_ms=GATHER_MS
    )
    # Applied as a call, not `@`: `**options` hides the overloads from mypy.
    broker.subscriber(topics.REGISTRATIONS, **options)(on_registration_batch)
