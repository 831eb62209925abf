"""The book of a programme: its sessions, every registration's placement, and what changed.

Pure: the handlers load a `Book`, call the rules (`arrivals`, `waitlist`, `staff`), then store the
placements and turn `book.changes` into events. Every change raises the placement's revision by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from uuid import UUID

from services.scheduler.domain.assignment import Offer, Request

Status = Literal["pending", "assigned", "offered", "waitlisted", "cancelled"]
ChangeKind = Literal["assigned", "updated", "released", "offered", "waitlisted", "cancelled"]
HELD: tuple[Status, ...] = ("assigned", "offered")
"""A seat is held by its assignee, or by a pending offer."""


class UnknownRegistration(LookupError):
    """The scheduler has never seen this registration."""


@dataclass(frozen=True)
class Slot:
    """A session as the rules see it: when, in which language, for how many."""

    session_id: str
    phase: str
    mode: str
    language: str
    dates: tuple[date, ...]
    starts_at: datetime
    closes_at: datetime
    capacity: int
    municipality_cap: int | None = None
    cancelled: bool = False


@dataclass
class Placement:
    """Where one registration stands."""

    registration_id: UUID
    arrival: int
    request: Request
    status: Status = "pending"
    session_id: str | None = None
    rank: int | None = None
    reason: str = ""
    revision: int = 0
    expires_at: datetime | None = None
    declined: frozenset[str] = frozenset()
    held_since: int = 0
    """Order in which the seat (or offer) was taken: capacity cuts undo the latest first."""


MOVED_ON_WAITLIST = "moved on the waitlist to position"


@dataclass(frozen=True)
class Change:
    """One step in a placement's history, to be announced as one event."""

    registration_id: UUID
    revision: int
    kind: ChangeKind
    session_id: str | None
    reason: str
    rank: int | None = None
    position: int | None = None
    expires_at: datetime | None = None
    release_reason: str | None = None
    cancelled_by: str | None = None
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class WaitlistPolicy:
    """How long an offer stays open, and how close to the start no offer is made any more."""

    offer_ttl: timedelta = timedelta(hours=48)
    offer_cutoff: timedelta = timedelta(hours=48)


@dataclass
class Book:
    """Sessions and placements of one programme; `changes` lists what happened, in order."""

    slots: dict[str, Slot]
    placements: dict[UUID, Placement]
    policy: WaitlistPolicy = field(default_factory=WaitlistPolicy)
    changes: list[Change] = field(default_factory=list)
    announced_positions: dict[UUID, int] = field(default_factory=dict)
    """Each waitlisted registration's position as last announced (set when the book is loaded)."""

    @classmethod
    def of(
        cls, slots: Iterable[Slot], placements: Iterable[Placement], policy: WaitlistPolicy
    ) -> Book:
        """Build a book from stored sessions and placements."""
        book = cls(
            {s.session_id: s for s in slots}, {p.registration_id: p for p in placements}, policy
        )
        book.announced_positions = book.positions()
        return book

    def positions(self) -> dict[UUID, int]:
        """Every waitlisted registration's place in the queue, 1-based."""
        return {p.registration_id: n for n, p in enumerate(self.waitlist(), start=1)}

    def announce_moved_positions(self) -> None:
        """Re-announce the waitlisted whose place in the queue moved since it was last announced."""
        announced = dict(self.announced_positions)
        for change in self.changes:
            if change.kind == "waitlisted":
                announced[change.registration_id] = change.position or 0
        for registration_id, position in self.positions().items():
            if announced.get(registration_id) != position:
                moved = f"{MOVED_ON_WAITLIST} {position}"
                self.record(
                    self.placements[registration_id], "waitlisted", position=position, reason=moved
                )
        self.announced_positions = self.positions()

    def get(self, registration_id: UUID) -> Placement:
        """The placement of a registration, or `UnknownRegistration`."""
        try:
            return self.placements[registration_id]
        except KeyError:
            raise UnknownRegistration(str(registration_id)) from None

    def holders(self, session_id: str) -> list[Placement]:
        """Who holds a seat (or an offer) in a session."""
        return [
            p for p in self.placements.values() if p.session_id == session_id and p.status in HELD
        ]

    def waitlist(self) -> list[Placement]:
        """Waitlisted registrations in arrival order."""
        waiting = [p for p in self.placements.values() if p.status == "waitlisted"]
        return sorted(waiting, key=lambda p: p.arrival)

    def position(self, placement: Placement) -> int:
        """A waitlisted registration's place in the queue, 1-based."""
        ahead = [p for p in self.waitlist() if p.arrival < placement.arrival]
        return len(ahead) + 1

    def offer(self, slot: Slot) -> Offer:
        """The session as the assignment rules see it, with the seats held now."""
        return self._offer(slot, self.holders(slot.session_id))

    def _offer(self, slot: Slot, holders: list[Placement]) -> Offer:
        return Offer(
            session_id=slot.session_id,
            phase=slot.phase,
            mode=slot.mode,
            language=slot.language,
            dates=slot.dates,
            starts_at=slot.starts_at,
            closes_at=slot.closes_at,
            capacity=slot.capacity,
            taken=len(holders),
            municipality_cap=slot.municipality_cap,
            municipalities=tuple(p.request.municipality for p in holders),
        )

    def offers(self) -> list[Offer]:
        """Every session still running, as the assignment rules see it (one pass over placements)."""
        held: dict[str, list[Placement]] = {}
        for placement in self.placements.values():
            if placement.status in HELD and placement.session_id is not None:
                held.setdefault(placement.session_id, []).append(placement)
        running = (s for s in self.slots.values() if not s.cancelled)
        return [self._offer(s, held.get(s.session_id, [])) for s in running]

    def next_arrival(self) -> int:
        """The arrival number of the next new registration."""
        return 1 + max((p.arrival for p in self.placements.values()), default=0)

    def seat(self, placement: Placement, session_id: str, rank: int | None, reason: str) -> None:
        """Give a registration a seat."""
        self._hold(placement, "assigned", session_id)
        placement.rank, placement.reason = rank, reason
        self.record(placement, "assigned", session_id=session_id, rank=rank)

    def offer_seat(self, placement: Placement, session_id: str, expires_at: datetime) -> None:
        """Hold a seat for a waitlisted registration until `expires_at`."""
        self._hold(placement, "offered", session_id)
        placement.expires_at = expires_at
        placement.reason = f"offered a freed seat in {session_id}"
        self.record(placement, "offered", session_id=session_id, expires_at=expires_at)

    def wait(self, placement: Placement, reason: str) -> None:
        """Put a registration on the waitlist (in arrival order)."""
        placement.status, placement.session_id, placement.rank = "waitlisted", None, None
        placement.expires_at, placement.reason = None, reason
        self.record(placement, "waitlisted", position=self.position(placement))

    def release(self, placement: Placement, release_reason: str, reason: str) -> None:
        """Announce that an assignee's seat is gone (the next step says where they go)."""
        placement.reason = reason
        self.record(
            placement, "released", session_id=placement.session_id, release_reason=release_reason
        )

    def cancel(self, placement: Placement, cancelled_by: str, reason: str) -> None:
        """End a registration."""
        placement.status, placement.session_id, placement.rank = "cancelled", None, None
        placement.expires_at, placement.reason = None, reason
        self.record(placement, "cancelled", cancelled_by=cancelled_by)

    def record(self, placement: Placement, kind: ChangeKind, **details: object) -> None:
        """Raise the revision and remember the change."""
        placement.revision += 1
        session_id = details.pop("session_id", placement.session_id)
        reason = details.pop("reason", placement.reason)
        change = Change(
            placement.registration_id,
            placement.revision,
            kind,
            session_id=session_id,  # type: ignore[arg-type]
            reason=reason,  # type: ignore[arg-type]
            **details,  # type: ignore[arg-type]
        )
        self.changes.append(change)

    def _hold(self, placement: Placement, status: Status, session_id: str) -> None:
        held = (p.held_since for p in self.placements.values())
        placement.held_since = 1 + max(held, default=0)
        placement.status, placement.session_id, placement.expires_at = status, session_id, None
