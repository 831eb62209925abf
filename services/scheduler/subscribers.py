"""The scheduler's Kafka edge: everything on the registrations stream, one handler per kind."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from services.scheduler import handlers
from shared import topics
from shared.contracts import (
    CancellationRequestedV1,
    ErasureRequestedV1,
    OfferAnsweredV1,
    RegistrationStreamEvent,
    RegistrationSubmittedV1,
)
from shared.kafka import subscriber_options


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

    async def on_registration_stream(event: RegistrationStreamEvent) -> None:
        await route(event, deps())

    # Applied as a call, not `@`: `**subscriber_options(...)` hides the overloads from mypy.
    broker.subscriber(topics.REGISTRATIONS, **subscriber_options(handlers.SERVICE))(
        on_registration_stream
    )
