"""Every Kafka topic the system uses, in one place."""

from __future__ import annotations

from dataclasses import dataclass

REGISTRATIONS = "registrations.v1"
"""Registrations and requests about them (cancel, offer answers, erasure), keyed by programme id."""

CATALOGUE = "catalogue.v1"
"""Sessions as staff change them, keyed by programme id."""

PLACEMENTS = "placements.v1"
"""Scheduler decisions (assigned, updated, released, offered, waitlisted, cancelled), keyed by registration id."""

CONSENTS = "consents.v1"
"""Channel consent changes (SMS STOP / START), keyed by phone number."""

NOTIFICATIONS = "notifications.v1"
"""Outcomes of every notification (sent, deferred, failed), keyed by registration id."""

DEAD_LETTER_SUFFIX = ".dlq"


def dead_letter(topic: str) -> str:
    """Name the dead-letter topic that receives what a consumer of `topic` could not process."""
    return f"{topic}{DEAD_LETTER_SUFFIX}"


@dataclass(frozen=True)
class TopicSpec:
    """A topic the system provisions at start-up."""

    name: str
    partitions: int


MAIN_TOPICS = (
    TopicSpec(REGISTRATIONS, partitions=3),
    TopicSpec(CATALOGUE, partitions=3),
    TopicSpec(PLACEMENTS, partitions=3),
    TopicSpec(CONSENTS, partitions=1),
    TopicSpec(NOTIFICATIONS, partitions=3),
)

ALL_TOPICS = MAIN_TOPICS + tuple(TopicSpec(dead_letter(t.name), partitions=1) for t in MAIN_TOPICS)
