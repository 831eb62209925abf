"""Use cases: place a registrant (or recall where they were placed), then announce it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from faststream.kafka import KafkaBroker

from services.scheduler.domain import Offer, Request, assign
from services.scheduler.store import Placements, PlacementStore
from shared import topics
from shared.catalogue import Catalogue, Programme, Session, UnknownProgramme
from shared.clock import Clock
from shared.contracts import (
    PlacementEvent,
    RegistrationSubmittedV1,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
    envelope,
)
from shared.kafka import PermanentError, publish_event

SERVICE = "scheduler"
_EVENT_IDS = uuid5(NAMESPACE_URL, "urn:trainingops:scheduler:placement")
log = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True)
class Deps:
    """What the handlers need from the outside world."""

    catalogue: Catalogue
    store: PlacementStore
    broker: KafkaBroker
    clock: Clock


def placement_event_id(registration_id: UUID, revision: int) -> UUID:
    """The id of the event announcing a placement revision: the same on every (re)publish."""
    return uuid5(_EVENT_IDS, f"{registration_id}:{revision}")


async def place_registration(event: RegistrationSubmittedV1, deps: Deps) -> PlacementEvent:
    """Decide where a registrant goes (or recall the decision), store it, then publish it.

    This is our outbox-equivalent: the decision and the exact event announcing it commit together,
    before anything is published. The consumer commits its Kafka offset only after this returns,
    so a crash between the database commit and the publish brings the registration back; the
    redelivery finds the stored event and publishes it again, same event_id, never a new decision.
    """
    programme = _programme(deps.catalogue, event.programme_id)
    now = deps.clock.now()
    async with deps.store.transaction(programme.id) as placements:
        placement = await placements.find(event.registration_id)
        replayed = placement is not None
        if placement is None:
            placement = await _decide(placements, event, programme, now)
            await placements.add(placement)
        await placements.mark_processed(SERVICE, event.event_id, now)
    await publish_event(deps.broker, topics.PLACEMENTS, placement, key=str(event.registration_id))
    _log_outcome(placement, replayed=replayed)
    return placement


def _programme(catalogue: Catalogue, programme_id: str) -> Programme:
    try:
        return catalogue.programme(programme_id)
    except UnknownProgramme as error:
        raise PermanentError(str(error)) from None  # retrying cannot make it appear


async def _decide(
    placements: Placements, event: RegistrationSubmittedV1, programme: Programme, now: datetime
) -> PlacementEvent:
    taken = await placements.taken_seats()
    offers = [offer_of(session, taken.get(session.id, 0)) for session in programme.sessions]
    decision = assign(request_of(event), offers, now)
    fields = envelope(
        producer=SERVICE,
        correlation_id=event.correlation_id,
        now=now,
        event_id=placement_event_id(event.registration_id, revision=1),
    )
    common = {"registration_id": event.registration_id, "programme_id": programme.id}
    if decision.session_id is None:
        position = await placements.waitlist_length() + 1
        reason = decision.reason
        return RegistrationWaitlistedV1(**fields, **common, position=position, reason=reason)
    return SeatAssignedV1(
        **fields,
        **common,
        session=programme.session(decision.session_id).snapshot(),
        attendee=event.registrant,
        revision=1,
        choice_rank=decision.rank,
        reason=decision.reason,
    )


def request_of(event: RegistrationSubmittedV1) -> Request:
    """What the registration asks of the rules."""
    return Request(
        preferences=event.preferences,
        unavailable_dates=frozenset(event.unavailable_dates),
        language=event.registrant.language,
    )


def offer_of(session: Session, taken: int) -> Offer:
    """A catalogue session as the rules see it; registration closes at the deadline or the start."""
    deadline = session.deadline
    closes_at = session.starts_at if deadline is None else min(deadline, session.starts_at)
    return Offer(
        session_id=session.id,
        phase=session.phase,
        mode=session.mode,
        language=session.language,
        dates=session.local_dates,
        starts_at=session.starts_at,
        closes_at=closes_at,
        capacity=session.capacity,
        taken=taken,
    )


def _log_outcome(placement: PlacementEvent, *, replayed: bool) -> None:
    """Ids and reasons only: never names, emails or phone numbers."""
    ids = {
        "registration_id": str(placement.registration_id),
        "programme_id": placement.programme_id,
        "event_id": str(placement.event_id),
    }
    if replayed:
        log.info("placement.replayed", **ids, event_type=placement.event_type)
    elif isinstance(placement, SeatAssignedV1):
        seat = {"session_id": placement.session.session_id, "choice_rank": placement.choice_rank}
        log.info("placement.assigned", **ids, **seat, reason=placement.reason)
    elif isinstance(placement, RegistrationWaitlistedV1):
        log.info(
            "placement.waitlisted", **ids, position=placement.position, reason=placement.reason
        )
