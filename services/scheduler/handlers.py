"""Use cases on the registrations stream: place, cancel, answer offers, erase; and the tick.

Each use case runs in one serialised transaction per programme: it records the message in the
inbox (a redelivery changes nothing), loads the programme's book, applies the rules, and writes the
placements together with the events announcing them (the outbox). After the commit the relay
publishes; if that fails the rows stay and the relay's loop retries them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from services.scheduler import announce
from services.scheduler.domain import Book, Change, UnknownRegistration, WaitlistPolicy, waitlist
from services.scheduler.domain.closing import close_if_due, collect
from services.scheduler.outbox import OutboxRelay
from services.scheduler.programme_tx import ProgrammeTx, StoredSession
from services.scheduler.store import SchedulerStore
from services.scheduler.views import request_of
from shared import topics
from shared.catalogue import Catalogue, Programme, UnknownProgramme
from shared.clock import Clock
from shared.contracts import (
    CancellationRequestedV1,
    ErasureRequestedV1,
    Event,
    OfferAnsweredV1,
    Registrant,
    RegistrationStreamEvent,
    RegistrationSubmittedV1,
)
from shared.kafka import PermanentError
from shared.kafka.delivery import correlated

SERVICE = announce.SERVICE
placement_event_id = announce.placement_event_id
log = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True)
class Deps:
    """What the handlers need from the outside world."""

    catalogue: Catalogue
    store: SchedulerStore
    relay: OutboxRelay
    clock: Clock
    policy: WaitlistPolicy = field(default_factory=WaitlistPolicy)


Contact = tuple[Registrant | None, str]
"""A registrant (None once erased) and their registration's correlation id."""
Step = Callable[[ProgrammeTx, Book, Any, Deps, datetime], Awaitable[None]]


async def place_registration(event: RegistrationSubmittedV1, deps: Deps) -> None:
    """Seat a new registration (first_come) or hold it until the programme closes (at_close)."""
    await _handle_one(event, deps, _place)


async def cancel_registration(event: CancellationRequestedV1, deps: Deps) -> None:
    """End a registration; its seat goes to the next fitting person on the waitlist."""
    await _handle_one(event, deps, _cancel)


async def answer_offer(event: OfferAnsweredV1, deps: Deps) -> None:
    """Accept (take the seat) or decline (the seat goes to the next person) an offer."""
    await _handle_one(event, deps, _answer_offer)


async def erase_registration(event: ErasureRequestedV1, deps: Deps) -> None:
    """Erase a registrant's data, free their seat, and announce only the cancellation."""
    await _handle_one(event, deps, _erase)


async def handle_batch(events: Sequence[RegistrationStreamEvent], deps: Deps) -> None:
    """Apply many requests with one transaction per programme, in order, then publish once.

    Atomic per programme; a failure leaves that programme's requests uncommitted, and the caller
    handles the batch again one request at a time (the inbox makes the repeats no-ops).
    """
    by_programme: dict[str, list[RegistrationStreamEvent]] = {}
    for event in events:
        by_programme.setdefault(event.programme_id, []).append(event)
    for programme_id, requests in by_programme.items():
        now = deps.clock.now()
        async with deps.store.transaction(programme_id) as tx:
            book = await tx.load_book(deps.policy)
            fresh = await tx.first_times(SERVICE, [event.event_id for event in requests], now)
            for event in requests:
                with correlated(event.correlation_id):
                    if event.event_id in fresh:
                        fresh.discard(event.event_id)  # a repeat within the batch is a duplicate
                        await STEPS[type(event)](tx, book, event, deps, now)
                    else:
                        log.info("message.duplicate", event_id=str(event.event_id))
    await publish(deps)


async def _handle_one(event: RegistrationStreamEvent, deps: Deps, step: Step) -> None:
    """One request in its own transaction (the inbox skips a redelivery), then publish."""
    now = deps.clock.now()
    async with deps.store.transaction(event.programme_id) as tx:
        book = await _fresh_book(tx, event.event_id, deps, now)
        if book is not None:
            await step(tx, book, event, deps, now)
    await publish(deps)


async def _place(
    tx: ProgrammeTx, book: Book, event: RegistrationSubmittedV1, deps: Deps, now: datetime
) -> None:
    programme = _programme(deps.catalogue, event.programme_id)
    if event.registration_id in book.placements:
        log.info("registration.duplicate", registration_id=str(event.registration_id))
        return
    request = request_of(event)
    if programme.mode == "at_close":
        placement = collect(book, event.registration_id, request)
    else:
        placement = waitlist.register(book, event.registration_id, request, now)
    await tx.add_placement(placement, event.registrant, event.correlation_id, now)
    contact = {placement.registration_id: (event.registrant, event.correlation_id)}
    await commit_changes(tx, book, now, stored={placement.registration_id}, known=contact)


async def _cancel(
    tx: ProgrammeTx, book: Book, event: CancellationRequestedV1, deps: Deps, now: datetime
) -> None:
    try:
        waitlist.cancel(book, event.registration_id, event.requested_by, now)
    except UnknownRegistration:
        raise PermanentError(f"unknown registration {event.registration_id}") from None
    await commit_changes(tx, book, now)


async def _answer_offer(
    tx: ProgrammeTx, book: Book, event: OfferAnsweredV1, deps: Deps, now: datetime
) -> None:
    taken = _answer(book, event, now)
    await commit_changes(tx, book, now)
    if not taken:
        log.info("offer.answer_ignored", registration_id=str(event.registration_id))


def _answer(book: Book, event: OfferAnsweredV1, now: datetime) -> bool:
    try:
        return waitlist.answer(
            book,
            event.registration_id,
            event.session_id,
            event.offer_revision,
            accepted=event.accepted,
            now=now,
        )
    except UnknownRegistration:
        raise PermanentError(f"unknown registration {event.registration_id}") from None


async def _erase(
    tx: ProgrammeTx, book: Book, event: ErasureRequestedV1, deps: Deps, now: datetime
) -> None:
    if waitlist.erase(book, event.registration_id, now):
        await tx.erase(event.registration_id)  # also drops events not yet published
        await commit_changes(tx, book, now, always={event.registration_id})
    log.info("registration.erased", registration_id=str(event.registration_id))


STEPS: dict[type[Event], Step] = {
    RegistrationSubmittedV1: _place,
    CancellationRequestedV1: _cancel,
    OfferAnsweredV1: _answer_offer,
    ErasureRequestedV1: _erase,
}


async def tick(deps: Deps) -> None:
    """Lapse expired offers, close due at_close programmes, offer free seats; then publish."""
    now = deps.clock.now()
    for programme in deps.catalogue.programmes:
        async with deps.store.transaction(programme.id) as tx:
            book = await tx.load_book(deps.policy)
            close_if_due(book, programme.mode, now)
            waitlist.tick(book, now)
            await commit_changes(tx, book, now)
    await publish(deps)


async def commit_changes(
    tx: ProgrammeTx,
    book: Book,
    now: datetime,
    *,
    stored: set[UUID] | frozenset[UUID] = frozenset(),
    always: set[UUID] | frozenset[UUID] = frozenset(),
    known: Mapping[UUID, Contact] | None = None,
) -> None:
    """Store every changed placement and write the events announcing the changes to the outbox.

    `stored`: placements already written; `known`: contacts in hand (not read back).
    """
    book.announce_moved_positions()
    changed = {c.registration_id for c in book.changes} | set(always)
    for registration_id in changed - set(stored):
        await tx.save_placement(book.placements[registration_id], now)
    for change in book.changes:
        contact = (known or {}).get(change.registration_id)
        session = await tx.session(change.session_id)
        await _enqueue(
            tx, change, session, now, contact or await tx.contact(change.registration_id)
        )
    book.changes.clear()


async def _enqueue(
    tx: ProgrammeTx,
    change: Change,
    session: StoredSession | None,
    now: datetime,
    contact: Contact,
) -> None:
    attendee, correlation_id = contact
    event = announce.placement_event(
        change,
        programme_id=tx.programme_id,
        programme_title=tx.programme_title,
        session=session,
        attendee=attendee,
        correlation_id=correlation_id,
        now=now,
    )
    key = str(change.registration_id)
    await tx.enqueue(
        event, topic=topics.PLACEMENTS, key=key, registration_id=change.registration_id
    )
    log.info(
        f"placement.{change.kind}",
        registration_id=key,
        programme_id=tx.programme_id,
        session_id=change.session_id,
        revision=change.revision,
        reason=change.reason,
    )


async def publish(deps: Deps) -> None:
    """Publish what was committed; on failure the relay's loop tries again."""
    try:
        await deps.relay.flush()
    except Exception as error:
        log.warning("outbox.publish_deferred", error=type(error).__name__)
        deps.relay.nudge()


async def _fresh_book(tx: ProgrammeTx, event_id: UUID, deps: Deps, now: datetime) -> Book | None:
    """The programme's book, or None when this message was already handled (a redelivery)."""
    if not await tx.first_time(SERVICE, event_id, now):
        log.info("message.duplicate", event_id=str(event_id))
        return None
    return await tx.load_book(deps.policy)


def _programme(catalogue: Catalogue, programme_id: str) -> Programme:
    try:
        return catalogue.programme(programme_id)
    except UnknownProgramme as error:
        raise PermanentError(str(error)) from None  # retrying cannot make it appear
