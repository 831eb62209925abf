"""Personal links from the participant's email: cancel, accept or decline a seat, leave the waitlist."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import structlog

from services.registration.domain import cancellation_event_id, offer_answer_event_id
from services.registration.handlers import Deps, publish_durably
from services.registration.tables import RegistrationRow
from shared.contracts import CancellationRequestedV1, Event, OfferAnsweredV1, envelope
from shared.links import LinkClaim

log = structlog.stdlib.get_logger("registration")
SERVICE = "registration"
Outcome = Literal["done", "already"]


class LinkNotUsable(LookupError):
    """The link is genuine but its registration is gone or the claim is incomplete."""


class LinkOutdated(LookupError):
    """The link is genuine but no longer fits: it leaves a waitlist the registrant is not on."""


def check_current(claim: LinkClaim, row: RegistrationRow) -> None:
    """Refuse to leave the waitlist for someone holding or offered a seat (it would cancel it)."""
    if claim.action == "leave-waitlist" and row.status not in ("waitlisted", "cancelled"):
        raise LinkOutdated(row.status)


async def registration_for(claim: LinkClaim, deps: Deps) -> RegistrationRow:
    """The stored registration a link is about (erased registrations have none)."""
    row = await deps.store.row(claim.registration_id)
    if row is None or row.erased_at is not None:
        raise LinkNotUsable("unknown registration")
    return row


def request_for(claim: LinkClaim, programme_id: str, *, correlation_id: str, deps: Deps) -> Event:
    """The event a link asks for, with an id that makes a second click the same request."""
    if claim.action in ("cancel", "leave-waitlist"):
        return CancellationRequestedV1(
            **_envelope(cancellation_event_id(claim.registration_id), correlation_id, deps),
            registration_id=claim.registration_id,
            programme_id=programme_id,
            requested_by="participant",
        )
    if claim.session_id is None or claim.revision is None:
        raise LinkNotUsable("offer link without session or revision")
    return OfferAnsweredV1(
        **_envelope(
            offer_answer_event_id(claim.registration_id, claim.revision), correlation_id, deps
        ),
        registration_id=claim.registration_id,
        programme_id=programme_id,
        session_id=claim.session_id,
        offer_revision=claim.revision,
        accepted=claim.action == "accept-offer",
    )


def _envelope(event_id: UUID, correlation_id: str, deps: Deps) -> dict[str, Any]:
    return envelope(
        producer=SERVICE, correlation_id=correlation_id, now=deps.clock.now(), event_id=event_id
    )


async def perform(claim: LinkClaim, *, correlation_id: str, deps: Deps) -> Outcome:
    """Publish what the link asks for, once; a second click (or the other answer) changes nothing."""
    row = await registration_for(claim, deps)
    check_current(claim, row)
    event = request_for(claim, row.programme_id, correlation_id=correlation_id, deps=deps)
    if await deps.link_uses.used(event.event_id):
        return "already"
    await publish_durably(deps, event, key=row.programme_id, registration_id=claim.registration_id)
    await deps.link_uses.record(
        event.event_id, claim.registration_id, claim.action, deps.clock.now()
    )
    log.info("link.used", registration_id=str(claim.registration_id), action=claim.action)
    return "done"
