"""The book of a programme: its sessions, every registration's placement, and what changed.

Pure: the handlers load a `Book`, call the rules (`arrivals`, `waitlist`, `staff`), then store the
placements and turn `book.changes` into events. Every change raises the placement's revision by one.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from services.scheduler.domain.assignment import (
    Offer,
    Request,
    Slot,
    default_order,
    open_to_anyone,
)

Status = Literal["pending", "assigned", "offered", "waitlisted", "cancelled"]
ChangeKind = Literal["assigned", "updated", "released", "offered", "waitlisted", "cancelled"]
HELD: tuple[Status, ...] = ("assigned", "offered")
"""A seat is held by its assignee, or by a pending offer."""


class UnknownRegistration(LookupError):
    """The scheduler has never seen this registration."""


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
    moved: bool = False  # a waitlisted change that only moves the position (nobody is written to)


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
    _index: _Index = field(init=False, repr=False, compare=False)
    _default_order: dict[str, list[Slot]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Per language, the sessions open without preferences in the order they are tried."""
    _full_before: dict[str, tuple[int, int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Per language, (seats vacated so far, n): the first n sessions of its order had no room."""
    _with_room: tuple[int, tuple[str, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """(seat moves so far, the sessions that then had room): a waitlisting moves no seat."""

    def __post_init__(self) -> None:
        self._index = _Index.of(self.placements.values())

    def set_slot(self, slot: Slot) -> None:
        """Add or change a session (staff edits go through here, so the order stays right)."""
        self.slots[slot.session_id] = slot
        self._default_order.clear()
        self._full_before.clear()
        self._with_room = None

    def add(self, placement: Placement) -> None:
        """Take in a new registration's placement (its arrival comes from `next_arrival`)."""
        self.placements[placement.registration_id] = placement
        self._index.enter(placement)

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
        return {rid: n for n, (_, rid) in enumerate(self._index.waiting, start=1)}

    def announce_moved_positions(self) -> None:
        """Re-announce the waitlisted whose place in the queue moved since it was last announced.

        Only places at or after the first entry or exit since the last announcement can have moved.
        """
        announced, waiting = self.announced_positions, self._index.waiting
        for gone in self._index.left_waitlist:
            announced.pop(gone, None)
        for change in self.changes:
            if change.kind == "waitlisted" and change.registration_id in self._index.waiting_ids:
                announced[change.registration_id] = change.position or 0
        for index in range(self._index.moved_from, len(waiting)):
            registration_id, position = waiting[index][1], index + 1
            if announced.get(registration_id) != position:
                moved = f"{MOVED_ON_WAITLIST} {position}"
                self.record(
                    self.placements[registration_id],
                    "waitlisted",
                    position=position,
                    reason=moved,
                    moved=True,
                )
                announced[registration_id] = position
        self._index.announced()

    def get(self, registration_id: UUID) -> Placement:
        """The placement of a registration, or `UnknownRegistration`."""
        try:
            return self.placements[registration_id]
        except KeyError:
            raise UnknownRegistration(str(registration_id)) from None

    def holders(self, session_id: str) -> list[Placement]:
        """Who holds a seat (or an offer) in a session."""
        return [self.placements[rid] for rid in self._index.held.get(session_id, {})]

    def waitlist(self) -> list[Placement]:
        """Waitlisted registrations in arrival order."""
        return [self.placements[rid] for _, rid in self._index.waiting]

    def position(self, placement: Placement) -> int:
        """A waitlisted registration's place in the queue, 1-based."""
        return bisect.bisect_left(self._index.waiting, (placement.arrival, _FIRST)) + 1

    def offer(self, slot: Slot) -> Offer:
        """The session as the assignment rules see it, with the seats held now (cached per change)."""
        stamp = (slot, self._index.stamp.get(slot.session_id, 0))
        cached = self._index.offers.get(slot.session_id)
        if cached is not None and cached[0][0] is slot and cached[0][1] == stamp[1]:
            return cached[1]
        offer = self._offer(slot, self._index.held.get(slot.session_id, {}))
        self._index.offers[slot.session_id] = (stamp, offer)
        return offer

    def _offer(self, slot: Slot, holders: dict[UUID, str]) -> Offer:
        counted = slot.municipality_cap is not None  # only a cap needs the holders' municipalities
        return Offer.of(
            slot, taken=len(holders), municipalities=tuple(holders.values()) if counted else ()
        )

    def offers(self) -> list[Offer]:
        """Every session still running, as the assignment rules see it."""
        return [self.offer(s) for s in self.slots.values() if not s.cancelled]

    def running(self, session_id: str) -> Offer | None:
        """A running session as the assignment rules see it (the book is their `Offers`)."""
        slot = self.slots.get(session_id)
        return None if slot is None or slot.cancelled else self.offer(slot)

    def by_default(self, language: str) -> Iterator[Offer]:
        """Running sessions open without preferences, in the order tried; full ones are skipped."""
        order = self._default_order.get(language)
        if order is None:
            eligible = filter(open_to_anyone, self.slots.values())
            order = self._default_order[language] = sorted(eligible, key=default_order(language))
        for slot in itertools.islice(order, self._skip_full(language, order), None):
            if self._has_room(slot):
                yield self.offer(slot)

    def _skip_full(self, language: str, order: list[Slot]) -> int:
        """How many sessions at the head of `order` have no room."""
        # a full session stays full until a seat is given up: until then, start where we stopped
        vacated, skipped = self._full_before.get(language, (-1, 0))
        if vacated != self._index.vacated:
            skipped = 0
        while skipped < len(order) and not self._has_room(order[skipped]):
            skipped += 1
        self._full_before[language] = (self._index.vacated, skipped)
        return skipped

    def _has_room(self, slot: Slot) -> bool:
        return not slot.cancelled and len(self._index.held.get(slot.session_id, ())) < slot.capacity

    def sessions_with_room(self) -> tuple[str, ...]:
        """The running sessions with a seat nobody holds, by id (recounted after seats moved)."""
        moves = self._index.seat_moves
        if self._with_room is None or self._with_room[0] != moves:
            room = tuple(sid for sid in sorted(self.slots) if self._has_room(self.slots[sid]))
            self._with_room = (moves, room)
        return self._with_room[1]

    def next_arrival(self) -> int:
        """The arrival number of the next new registration."""
        return 1 + self._index.last_arrival

    def vacate(self, placement: Placement) -> None:
        """Free a held seat without announcing anything (the next step places the person)."""
        self._move(placement, "waitlisted", None)

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
        self._move(placement, "waitlisted", None)
        placement.rank, placement.expires_at, placement.reason = None, None, reason
        self.record(placement, "waitlisted", position=self.position(placement))

    def release(self, placement: Placement, release_reason: str, reason: str) -> None:
        """Announce that an assignee's seat is gone (the next step says where they go)."""
        placement.reason = reason
        self.record(
            placement, "released", session_id=placement.session_id, release_reason=release_reason
        )

    def cancel(self, placement: Placement, cancelled_by: str, reason: str) -> None:
        """End a registration."""
        self._move(placement, "cancelled", None)
        placement.rank, placement.expires_at, placement.reason = None, None, reason
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
        placement.held_since = self._index.next_held_since()
        self._move(placement, status, session_id)
        placement.expires_at = None

    def _move(self, placement: Placement, status: Status, session_id: str | None) -> None:
        """The one place a placement's status and session change, so the indexes follow."""
        self._index.leave(placement)
        placement.status, placement.session_id = status, session_id
        self._index.enter(placement)


_FIRST = UUID(int=0)


@dataclass
class _Index:
    """What the rules ask of a book on every decision, kept up to date instead of recomputed."""

    held: dict[str, dict[UUID, str]] = field(default_factory=dict)
    """Per session, who holds a seat or an offer there, with the municipality they count for."""
    waiting: list[tuple[int, UUID]] = field(default_factory=list)
    """The waitlist as (arrival, registration id), sorted."""
    waiting_ids: set[UUID] = field(default_factory=set)
    stamp: dict[str, int] = field(default_factory=dict)
    """Per session, raised whenever its holders change (cached offers compare it)."""
    offers: dict[str, tuple[tuple[Slot, int], Offer]] = field(default_factory=dict)
    last_arrival: int = 0
    last_held_since: int = 0
    moved_from: int = 0
    """The first waitlist place that may have moved since positions were last announced."""
    left_waitlist: set[UUID] = field(default_factory=set)
    seat_moves: int = 0
    """How many times a seat (or offer) was taken or given up."""
    vacated: int = 0
    """How many times one was given up: only then can a full session have room again."""

    @classmethod
    def of(cls, placements: Iterable[Placement]) -> _Index:
        """Index existing placements; nothing counts as moved."""
        index = cls()
        for placement in placements:
            index.enter(placement)
            index.last_held_since = max(index.last_held_since, placement.held_since)
        index.announced()
        return index

    def enter(self, placement: Placement) -> None:
        """Count a placement in its current status."""
        self.last_arrival = max(self.last_arrival, placement.arrival)
        rid = placement.registration_id
        if placement.status in HELD and placement.session_id is not None:
            self.held.setdefault(placement.session_id, {})[rid] = placement.request.municipality
            self.stamp[placement.session_id] = self.stamp.get(placement.session_id, 0) + 1
            self.seat_moves += 1
        elif placement.status == "waitlisted":
            key = (placement.arrival, rid)
            at = bisect.bisect_left(self.waiting, key)
            self.waiting.insert(at, key)
            self.waiting_ids.add(rid)
            self.left_waitlist.discard(rid)
            self.moved_from = min(self.moved_from, at)

    def leave(self, placement: Placement) -> None:
        """Stop counting a placement in its current status (before it changes)."""
        rid = placement.registration_id
        if placement.status in HELD and placement.session_id is not None:
            self.held.get(placement.session_id, {}).pop(rid, None)
            self.stamp[placement.session_id] = self.stamp.get(placement.session_id, 0) + 1
            self.seat_moves, self.vacated = self.seat_moves + 1, self.vacated + 1
        elif placement.status == "waitlisted" and rid in self.waiting_ids:
            at = bisect.bisect_left(self.waiting, (placement.arrival, rid))
            del self.waiting[at]
            self.waiting_ids.discard(rid)
            self.left_waitlist.add(rid)
            self.moved_from = min(self.moved_from, at)

    def next_held_since(self) -> int:
        """The order number of the next seat or offer taken."""
        self.last_held_since += 1
        return self.last_held_since

    def announced(self) -> None:
        """Positions were announced: from now on only later entries and exits move anyone."""
        self.moved_from, self.left_waitlist = len(self.waiting), set()
