"""Use cases of the registration service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

import structlog
from faststream.kafka import KafkaBroker

from services.registration.domain import registration_id_for, submission_event_id
from services.registration.schemas import RegistrationRequest, RegistrationStatus
from services.registration.store import RegistrationStore
from shared import topics
from shared.catalogue import Catalogue, UnknownProgramme, UnknownSession
from shared.clock import Clock
from shared.contracts import (
    PlacementEvent,
    Registrant,
    RegistrationCancelledV1,
    RegistrationSubmittedV1,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
    SeatOfferedV1,
    SeatUpdatedV1,
    envelope,
)
from shared.kafka import publish_event

log = structlog.stdlib.get_logger("registration")
SERVICE = "registration"


class CatalogueError(ValueError):
    """The request names a programme or session that does not exist or is closed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class KafkaUnavailable(RuntimeError):
    """The event could not be durably written to Kafka in time."""


@dataclass(frozen=True)
class Deps:
    """What the use cases need from the outside world."""

    broker: KafkaBroker
    store: RegistrationStore
    catalogue: Catalogue
    clock: Clock
    publish_timeout_s: float


def check_against_catalogue(request: RegistrationRequest, catalogue: Catalogue) -> None:
    """Refuse an unknown programme or session, naming the field."""
    try:
        programme = catalogue.programme(request.programme_id)
    except UnknownProgramme as error:
        raise CatalogueError("programme_id", "unknown programme") from error
    for index, session_id in enumerate(request.preferences):
        try:
            programme.session(session_id)
        except UnknownSession as error:
            raise CatalogueError(
                f"preferences.{index}", f"unknown session in programme {programme.id}"
            ) from error


def to_event(
    request: RegistrationRequest, registration_id: UUID, *, correlation_id: str, deps: Deps
) -> RegistrationSubmittedV1:
    """Turn an accepted request into the event the scheduler consumes."""
    fields = request.model_dump(exclude={"programme_id", "preferences", "unavailable_dates"})
    return RegistrationSubmittedV1(
        **envelope(
            producer=SERVICE,
            correlation_id=correlation_id,
            now=deps.clock.now(),
            event_id=submission_event_id(registration_id),
        ),
        registration_id=registration_id,
        programme_id=request.programme_id,
        registrant=Registrant(**fields),
        preferences=tuple(request.preferences),
        unavailable_dates=tuple(request.unavailable_dates),
    )


async def submit(request: RegistrationRequest, *, correlation_id: str, deps: Deps) -> UUID:
    """Accept a registration once: publish it durably, then remember it. Same person, same id."""
    check_against_catalogue(request, deps.catalogue)
    registration_id = registration_id_for(request.programme_id, request.email)
    if await deps.store.exists(registration_id):
        log.info("registration.duplicate", registration_id=str(registration_id))
        return registration_id
    event = to_event(request, registration_id, correlation_id=correlation_id, deps=deps)
    try:
        async with asyncio.timeout(deps.publish_timeout_s):
            await publish_event(deps.broker, topics.REGISTRATIONS, event, key=request.programme_id)
    except Exception as error:
        log.error(
            "registration.publish_failed",
            registration_id=str(registration_id),
            error=type(error).__name__,
        )
        raise KafkaUnavailable from error
    # A crash here loses only this record: the client's retry republishes the same event id.
    await deps.store.record_submitted(registration_id, request.programme_id, deps.clock.now())
    log.info(
        "registration.accepted",
        registration_id=str(registration_id),
        programme_id=request.programme_id,
    )
    return registration_id


def status_from(event: PlacementEvent) -> RegistrationStatus | None:
    """Map a scheduler decision to the status the API shows (None: the next event will say)."""
    common = {
        "registration_id": event.registration_id,
        "programme_id": event.programme_id,
        "reason": event.reason,
        "revision": event.revision,
        "updated_at": event.occurred_at,
    }
    match event:
        case SeatAssignedV1() | SeatUpdatedV1():
            return RegistrationStatus(
                **common, status="assigned", session_id=event.session.session_id
            )
        case SeatOfferedV1():
            return RegistrationStatus(
                **common,
                status="offered",
                session_id=event.session.session_id,
                offer_expires_at=event.expires_at,
            )
        case RegistrationWaitlistedV1():
            return RegistrationStatus(
                **common, status="waitlisted", waitlist_position=event.position
            )
        case RegistrationCancelledV1():
            return RegistrationStatus(**common, status="cancelled")
    return None  # a released seat is followed by the registration's next placement


async def on_placement(event: PlacementEvent, *, store: RegistrationStore) -> None:
    """Keep the status endpoint in step with the scheduler's decisions (idempotent upsert)."""
    status = status_from(event)
    if status is not None:
        await store.record_status(status)
    log.info(
        "registration.status_updated",
        registration_id=str(event.registration_id),
        status=event.event_type,
    )
