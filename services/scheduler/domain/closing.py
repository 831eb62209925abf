"""`at_close` programmes: collect registrations, then place them all at once at the deadline.

The programme closes at the earliest registration deadline of its running sessions. Then one
assignment is computed as a min-cost flow (see `optimal.py`): as many seats as possible, then the
best total preference rank, then earlier arrivals first; the rest go to the waitlist.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.scheduler.domain.assignment import Request, ordinal
from services.scheduler.domain.book import Book, Placement
from services.scheduler.domain.optimal import Candidate, optimal_assignment


def collect(book: Book, registration_id: UUID, request: Request) -> Placement:
    """Hold a registration until the programme closes (status pending, nothing announced)."""
    known = book.placements.get(registration_id)
    if known is not None:
        return known
    placement = Placement(registration_id, book.next_arrival(), request, reason="collected")
    book.add(placement)
    return placement


def closes_at(book: Book) -> datetime | None:
    """When an at_close programme makes its one assignment."""
    running = [s.closes_at for s in book.slots.values() if not s.cancelled]
    return min(running, default=None)


def close_if_due(book: Book, mode: str, now: datetime) -> None:
    """At or after the close, place every pending registration in one optimal assignment."""
    deadline = closes_at(book)
    pending = sorted(
        (p for p in book.placements.values() if p.status == "pending"), key=lambda p: p.arrival
    )
    if mode != "at_close" or deadline is None or now < deadline or not pending:
        return
    offers = book.offers()
    candidates = [Candidate(p.registration_id, p.request) for p in pending]
    chosen = optimal_assignment(candidates, offers)
    for placement in pending:
        seat = chosen.get(placement.registration_id)
        if seat is None:
            book.wait(placement, "waitlisted at close: no seat left in a fitting session")
        else:
            session_id, rank = seat
            label = "any session" if rank is None else f"{ordinal(rank)} choice"
            book.seat(placement, session_id, rank, f"{label} (best overall assignment at close)")
