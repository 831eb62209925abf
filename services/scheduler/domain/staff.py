"""Staff changes to a session and what they do to the people placed in it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.scheduler.domain.assignment import Slot, assign
from services.scheduler.domain.book import Book
from services.scheduler.domain.waitlist import offer_all_free_seats


def add_session(book: Book, slot: Slot, now: datetime) -> None:
    """A new session: its seats go to fitting waitlisted registrations."""
    book.set_slot(slot)
    offer_all_free_seats(book, now)


def update_session(book: Book, slot: Slot, changes: tuple[str, ...], now: datetime) -> None:
    """A session moved (time, venue, link...): every assignee is told what changed."""
    book.set_slot(slot)
    if changes:
        for placement in sorted(book.holders(slot.session_id), key=lambda p: p.arrival):
            if placement.status == "assigned":
                placement.reason = f"session changed: {', '.join(changes)}"
                book.record(placement, "updated", changes=changes)
    offer_all_free_seats(book, now)


def resize(book: Book, session_id: str, capacity: int, now: datetime) -> None:
    """A new capacity: a cut withdraws the latest offers, then moves the latest assignees back."""
    slot = replace(book.slots[session_id], capacity=capacity)
    book.set_slot(slot)
    holders = book.holders(session_id)
    excess = len(holders) - capacity
    # offers go first (status "offered" sorts after "assigned"), then the most recent seats
    latest_first = sorted(holders, key=lambda p: (p.status == "offered", p.held_since))[::-1]
    for placement in latest_first[: max(0, excess)]:
        if placement.status == "assigned":
            book.release(placement, "capacity_reduced", f"capacity of {session_id} reduced")
        book.wait(placement, f"capacity of {session_id} reduced: back on the waitlist")
    offer_all_free_seats(book, now)


def cancel_session(book: Book, session_id: str, now: datetime) -> None:
    """A cancelled session: its people are re-placed by their other preferences, or waitlisted."""
    book.set_slot(replace(book.slots[session_id], cancelled=True))
    for placement in sorted(book.holders(session_id), key=lambda p: p.arrival):
        if placement.status == "assigned":
            book.release(placement, "session_cancelled", f"session {session_id} cancelled")
        book.vacate(placement)  # frees the seat for counting
        decision = assign(placement.request, book, now, late=True)
        reason = f"session {session_id} cancelled; {decision.reason}"
        if decision.session_id is None:
            book.wait(placement, reason)
        else:
            book.seat(placement, decision.session_id, decision.rank, reason)
    offer_all_free_seats(book, now)
