"""The scheduler's Kafka edge: registrations in; the handlers publish the placements."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from services.scheduler import handlers
from shared import topics
from shared.contracts import RegistrationSubmittedV1
from shared.kafka import subscriber_options


def register(broker: KafkaBroker, deps: Callable[[], handlers.Deps]) -> None:
    """Subscribe the scheduler to registrations; `deps` yields the dependencies once started."""

    async def on_registration_submitted(event: RegistrationSubmittedV1) -> None:
        await handlers.place_registration(event, deps())

    # Applied as a call, not `@`: `**subscriber_options(...)` hides the overloads from mypy.
    broker.subscriber(topics.REGISTRATIONS, **subscriber_options(handlers.SERVICE))(
        on_registration_submitted
    )
