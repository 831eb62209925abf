"""The notifier's Kafka edge: decode, hand to the use case, nothing else."""

from __future__ import annotations

from faststream.kafka import KafkaRouter
from faststream.kafka.subscriber.usecase import DefaultSubscriber

from services.notifier import handlers, trainers
from shared import topics
from shared.contracts import (
    ErasureRequestedV1,
    PlacementEvent,
    RegistrationStreamEvent,
    SessionPublishedV1,
    SmsConsentChangedV1,
)
from shared.kafka import subscriber_options

GROUP_ID = "notifier"


def build_router(intake: handlers.Intake) -> KafkaRouter:
    """Subscribe the use cases to their topics."""
    router = KafkaRouter()

    # `**` of a dict[str, Any] hides FastStream's overloads from mypy: name the type back.
    def subscribe(topic: str) -> DefaultSubscriber:
        return router.subscriber(topic, **subscriber_options(GROUP_ID))  # type: ignore[no-any-return]

    @subscribe(topics.PLACEMENTS)
    async def on_placement(event: PlacementEvent) -> None:
        await handlers.on_placement(event, intake)

    @subscribe(topics.CATALOGUE)
    async def on_session(event: SessionPublishedV1) -> None:
        await trainers.on_session_published(event, intake)

    @subscribe(topics.REGISTRATIONS)
    async def on_registration(event: RegistrationStreamEvent) -> None:
        if isinstance(event, ErasureRequestedV1):
            await handlers.on_erasure(event, intake)

    @subscribe(topics.CONSENTS)
    async def on_consent(event: SmsConsentChangedV1) -> None:
        await handlers.on_sms_consent(event, intake)

    return router
