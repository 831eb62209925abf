"""Arrivals, cancellations and the waitlist: freed seats are offered to the next fitting person.

Rules:
- a freed seat is offered to the first waitlisted registration (arrival order) that would take it:
  the session is one of their preferences (or, without preferences, a default training), it is not
  on a date they cannot make, it is in a language they speak, their municipality is under the
  session's cap, and they have not declined or let lapse an offer for it before;
- an offer holds the seat until it expires (`offer_ttl`, at most until the cut-off); no offer is
  made within `offer_cutoff` of the session's start;
- a declined or lapsed offer goes to the next fitting person; the decliner stays on the waitlist
  for their other preferences.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.scheduler.domain.assignment import Request, acceptable, assign
from services.scheduler.domain.book import HELD, Book, Placement

ERASED = Request(preferences=(), unavailable_dates=frozenset(), language="", municipality="")


def register(book: Book, registration_id: UUID, request: Request, now: datetime) -> Placement:
    """First come: seat a new registration by its preferences, or waitlist it (idempotent)."""
    known = book.placements.get(registration_id)
    if known is not None:
        return known
    placement = Placement(registration_id, book.next_arrival(), request)
    book.add(placement)
    decision = assign(request, book, now)
    if decision.session_id is None:
        book.wait(placement, decision.reason)
        offer_all_free_seats(book, now)  # past a deadline, seats go by offer only
    else:
        book.seat(placement, decision.session_id, decision.rank, decision.reason)
    return placement


def cancel(book: Book, registration_id: UUID, cancelled_by: str, now: datetime) -> None:
    """End a registration; a seat it held goes to the next fitting waitlisted person."""
    placement = book.get(registration_id)
    if placement.status == "cancelled":
        return
    freed = placement.session_id if placement.status in HELD else None
    if placement.status == "assigned":
        released = "participant_cancelled" if cancelled_by == "participant" else "staff_cancelled"
        book.release(placement, released, f"cancelled by {cancelled_by}")
    book.cancel(placement, cancelled_by, f"cancelled by {cancelled_by}")
    if freed is not None:
        offer_all_free_seats(book, now)


def erase(book: Book, registration_id: UUID, now: datetime) -> bool:
    """Forget a registrant's data and free their seat; False if the registration is unknown."""
    placement = book.placements.get(registration_id)
    if placement is None:
        return False
    freed = placement.session_id if placement.status in HELD else None
    placement.request, placement.declined = ERASED, frozenset()
    if placement.status != "cancelled":
        book.cancel(placement, "erasure", "personal data erased on request")
    if freed is not None:
        offer_all_free_seats(book, now)
    return True


def answer(
    book: Book,
    registration_id: UUID,
    session_id: str,
    offer_revision: int,
    *,
    accepted: bool,
    now: datetime,
) -> bool:
    """Take a seat or decline it; False when the offer is no longer open (stale or lapsed)."""
    placement = book.get(registration_id)
    open_offer = placement.status == "offered" and placement.session_id == session_id
    if not open_offer or placement.revision != offer_revision:
        return False
    if placement.expires_at is not None and now >= placement.expires_at:
        return False  # the tick lapses it
    if not accepted:
        _give_back(book, placement, f"declined the offer for {session_id}", now)
        return True
    prefs = placement.request.preferences
    rank = prefs.index(session_id) + 1 if session_id in prefs else None
    book.seat(placement, session_id, rank, f"accepted the offer for {session_id}")
    return True


def tick(book: Book, now: datetime) -> None:
    """Lapse expired offers, then offer every free seat that can still be offered."""
    for placement in sorted(book.placements.values(), key=lambda p: p.arrival):
        expired = placement.expires_at is not None and now >= placement.expires_at
        if placement.status == "offered" and expired:
            _give_back(book, placement, f"the offer for {placement.session_id} lapsed", now)
    offer_all_free_seats(book, now)


def offer_all_free_seats(book: Book, now: datetime) -> None:
    """Offer the free seats of every session (after anyone joined the waitlist or left a seat)."""
    for session_id in book.sessions_with_room():  # a full session has nothing to offer
        offer_free_seats(book, session_id, now)


def offer_free_seats(book: Book, session_id: str, now: datetime) -> None:
    """Offer a session's free seats, one by one, to the next fitting waitlisted registrations."""
    slot = book.slots[session_id]
    cutoff = slot.starts_at - book.policy.offer_cutoff
    if slot.cancelled or now >= cutoff:
        return
    expires_at = min(now + book.policy.offer_ttl, cutoff)
    while (candidate := _next_fitting(book, session_id)) is not None:
        book.offer_seat(candidate, session_id, expires_at)


def _next_fitting(book: Book, session_id: str) -> Placement | None:
    offer = book.offer(book.slots[session_id])
    if offer.taken >= offer.capacity:
        return None
    for placement in book.waitlist():
        request = placement.request
        if session_id in placement.declined or not acceptable(request, offer):
            continue
        if offer.misfit(request) is None and offer.room_for(request) is None:
            return placement
    return None


def _give_back(book: Book, placement: Placement, reason: str, now: datetime) -> None:
    """An offer ends unaccepted: back to the waitlist, and the seat goes to the next person."""
    session_id = placement.session_id
    assert session_id is not None
    placement.declined = placement.declined | {session_id}
    book.wait(placement, reason)
    offer_all_free_seats(book, now)
