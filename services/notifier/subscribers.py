"""The notifier's Kafka edge: decode, hand to the use case, nothing else."""

from __future__ import annotations

from faststream.kafka import KafkaRouter
from faststream.kafka.subscriber.usecase import DefaultSubscriber

from services.notifier import handlers
from shared import topics
from shared.contracts import PlacementEvent
from shared.kafka import subscriber_options

GROUP_ID = "notifier"


def build_router(deps: handlers.Deps) -> KafkaRouter:
    """Subscribe the use cases to their topics."""
    router = KafkaRouter()

    # `**` of a dict[str, Any] hides FastStream's overloads from mypy: name the type back.
    placements: DefaultSubscriber = router.subscriber(
        topics.PLACEMENTS, **subscriber_options(GROUP_ID)
    )

    @placements
    async def on_placement(event: PlacementEvent) -> None:
        await handlers.on_placement(event, deps)

    return router
