"""Turn what the rules changed into the events that announce it, with deterministic ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from services.scheduler.domain import Change
from services.scheduler.programme_tx import StoredSession
from shared.contracts import (
    PlacementEvent,
    Registrant,
    RegistrationCancelledV1,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
    SeatOfferedV1,
    SeatReleasedV1,
    SeatUpdatedV1,
    SessionPublishedV1,
    envelope,
)

SERVICE = "scheduler"
_PLACEMENT_IDS = uuid5(NAMESPACE_URL, "urn:trainingops:scheduler:placement")
_SESSION_IDS = uuid5(NAMESPACE_URL, "urn:trainingops:scheduler:session")


def placement_event_id(registration_id: UUID, revision: int) -> UUID:
    """The id of the event announcing a placement revision: the same on every (re)publish."""
    return uuid5(_PLACEMENT_IDS, f"{registration_id}:{revision}")


def session_event_id(session_id: str, revision: int) -> UUID:
    """The id of the event announcing a session revision."""
    return uuid5(_SESSION_IDS, f"{session_id}:{revision}")


def placement_event(
    change: Change,
    *,
    programme_id: str,
    session: StoredSession | None,
    programme_title: str | None = None,
    attendee: Registrant | None,
    correlation_id: str,
    now: datetime,
) -> PlacementEvent:
    """The event for one change of a placement."""
    fields: dict[str, Any] = envelope(
        producer=SERVICE,
        correlation_id=correlation_id,
        now=now,
        event_id=placement_event_id(change.registration_id, change.revision),
    )
    fields |= {
        "registration_id": change.registration_id,
        "programme_id": programme_id,
        "revision": change.revision,
        "reason": change.reason[:500],
    }
    if change.kind == "waitlisted":
        return RegistrationWaitlistedV1(
            **fields,
            position=change.position,
            joined=not change.moved,
            attendee=attendee,
            programme_title=programme_title,
        )
    if change.kind == "cancelled":
        return RegistrationCancelledV1(**fields, cancelled_by=cast(Any, change.cancelled_by))
    if session is None or attendee is None:
        raise ValueError(f"a {change.kind} event needs a session and an attendee")
    fields |= {"session": session.snapshot, "attendee": attendee}
    return _seat_event(change, fields)


def _seat_event(change: Change, fields: dict[str, Any]) -> PlacementEvent:
    match change.kind:
        case "assigned":
            return SeatAssignedV1(**fields, choice_rank=change.rank)
        case "updated":
            return SeatUpdatedV1(**fields, changes=cast(Any, change.changes))
        case "released":
            return SeatReleasedV1(**fields, release_reason=cast(Any, change.release_reason))
        case "offered":
            return SeatOfferedV1(**fields, expires_at=change.expires_at)
    raise ValueError(f"unknown change {change.kind!r}")


def session_event(
    stored: StoredSession, *, correlation_id: str, now: datetime
) -> SessionPublishedV1:
    """The event announcing a session as it now stands."""
    session = stored.session
    return SessionPublishedV1(
        **envelope(
            producer=SERVICE,
            correlation_id=correlation_id,
            now=now,
            event_id=session_event_id(session.id, stored.revision),
        ),
        session=session.snapshot(),
        capacity=session.capacity,
        registration_deadline=session.deadline,
        status="cancelled" if stored.cancelled else "scheduled",
        revision=stored.revision,
    )
