"""The notifier's Kafka edge: decode, hand to the use case, nothing else.

The two busy streams (placements, and the registrations stream it watches for erasures) are taken
in batches with one offset commit each; every use case is idempotent per event (deterministic
notification keys, revision checks), so after a failure mid-batch the one-by-one retry of the
whole batch repeats nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from pydantic import TypeAdapter
from structlog.contextvars import bound_contextvars

from services.notifier import handlers, trainers
from shared import topics
from shared.contracts import (
    ErasureRequestedV1,
    Event,
    PlacementEvent,
    RegistrationStreamEvent,
    SessionPublishedV1,
    SmsConsentChangedV1,
)
from shared.kafka import batch_subscriber_options, consume_batch, subscriber_options

GROUP_ID = "notifier"
E = TypeVar("E", bound=Event)
PLACEMENTS: TypeAdapter[PlacementEvent] = TypeAdapter(PlacementEvent)
REGISTRATION_STREAM: TypeAdapter[RegistrationStreamEvent] = TypeAdapter(RegistrationStreamEvent)
ERASURES = frozenset({ErasureRequestedV1.model_fields["event_type"].default})


def build_router(intake: handlers.Intake) -> KafkaRouter:
    """Subscribe the use cases to their topics."""
    router = KafkaRouter()

    # `**` of a dict[str, Any] hides FastStream's overloads from mypy: name the type back.
    def subscribe(topic: str) -> DefaultSubscriber:
        return router.subscriber(topic, **subscriber_options(GROUP_ID))  # type: ignore[no-any-return]

    def subscribe_batches(
        topic: str,
        adapter: TypeAdapter[E],
        one: Callable[[E], Awaitable[None]],
        many: Callable[[list[E]], Awaitable[None]] | None = None,
        only: frozenset[str] | None = None,
    ) -> None:
        async def in_order(events: list[E]) -> None:
            for event in events:
                with bound_contextvars(correlation_id=event.correlation_id):
                    await one(event)

        async def on_batch(_: list[bytes], message: KafkaMessage) -> None:
            await consume_batch(
                message.raw_message,
                adapter,
                handle_many=many or in_order,
                handle_one=one,
                only=only,
            )

        router.subscriber(topic, **batch_subscriber_options(GROUP_ID))(on_batch)

    async def on_placement(event: PlacementEvent) -> None:
        await handlers.on_placement(event, intake)

    async def on_placements(events: list[PlacementEvent]) -> None:
        await handlers.on_placements(events, intake)

    async def on_registration(event: RegistrationStreamEvent) -> None:
        if isinstance(event, ErasureRequestedV1):
            await handlers.on_erasure(event, intake)

    subscribe_batches(topics.PLACEMENTS, PLACEMENTS, on_placement, on_placements)
    # Of the registrations stream only erasures concern the notifier: the rest stay undecoded.
    subscribe_batches(topics.REGISTRATIONS, REGISTRATION_STREAM, on_registration, only=ERASURES)

    @subscribe(topics.CATALOGUE)
    async def on_session(event: SessionPublishedV1) -> None:
        await trainers.on_session_published(event, intake)

    @subscribe(topics.CONSENTS)
    async def on_consent(event: SmsConsentChangedV1) -> None:
        await handlers.on_sms_consent(event, intake)

    return router
