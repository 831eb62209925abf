"""Follow the scheduler's decisions so the status endpoint can answer."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from services.registration.schemas import RegistrationStatus
from services.registration.store import RegistrationStore
from shared.contracts import (
    PlacementEvent,
    RegistrationCancelledV1,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
    SeatOfferedV1,
    SeatUpdatedV1,
)

log = structlog.stdlib.get_logger("registration")


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
    await on_placements([event], store=store)


async def on_placements(events: Sequence[PlacementEvent], *, store: RegistrationStore) -> None:
    """The same for a batch of decisions, in one transaction (a newer revision always wins)."""
    statuses = [status for event in events if (status := status_from(event)) is not None]
    await store.record_statuses(statuses)
    batch_log = log.bind()  # one logger for the batch: the module's proxy builds one per call
    for event in events:
        batch_log.info(
            "registration.status_updated",
            registration_id=str(event.registration_id),
            status=event.event_type,
        )
