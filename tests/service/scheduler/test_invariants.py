"""Random sequences of everything that can happen, through the real handlers and database.

After every step: no session holds more people than its capacity (nor a cancelled one anyone),
no municipality exceeds its cap, nobody holds two seats, no accepted registration is lost, every
placement's events have revisions 1..n without gaps, and what the events say equals what is stored.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.scheduler import handlers, sessions
from services.scheduler.domain import Book, acceptable
from services.scheduler.domain.closing import closes_at
from services.scheduler.store import SchedulerStore
from shared.contracts import CancellationRequestedV1, ErasureRequestedV1, OfferAnsweredV1
from tests.service.scheduler.conftest import NOW, registration
from tests.service.scheduler.test_placement_durability import RecordingBroker, make_deps

pytestmark = pytest.mark.service
SESSIONS = ("s1", "s2", "s3")
TOWNS = ("Grad Bor", "Opština Niš", "Čačak")


def envelope() -> dict[str, Any]:
    return {"event_id": uuid4(), "occurred_at": NOW, "correlation_id": "c", "producer": "test"}


class SchedulerMachine(RuleBasedStateMachine):
    """The scheduler under a random sequence of registrations, answers and staff changes."""

    mode = "first_come"
    cap = 2

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = tempfile.TemporaryDirectory()
        self.store = SchedulerStore(f"sqlite+aiosqlite:///{Path(self.folder.name) / 's.sqlite3'}")
        self.broker = RecordingBroker()
        self.deps = make_deps(
            self.store, self.broker, capacities=(2, 2, 1), cap=self.cap, mode=self.mode
        )
        self.registered: list[UUID] = []
        self.ended: set[UUID] = set()

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    @initialize()
    def start(self) -> None:
        self.run(self.store.create_tables())
        self.run(sessions.seed_catalogue(self.deps))

    def teardown(self) -> None:
        self.run(self.store.dispose())
        self.loop.close()
        self.folder.cleanup()

    def book(self) -> Book:
        """The book as stored, loaded fresh from the database (never the cache)."""

        async def load() -> Book:
            async with self.store.transaction("small") as tx:
                return await tx.load_book(self.deps.policy, cached=False)

        book: Book = self.run(load())
        return book

    @invariant()
    def the_cached_book_is_the_stored_one(self) -> None:
        async def both() -> tuple[Book, Book]:
            async with self.store.transaction("small") as tx:
                fresh = await tx.load_book(self.deps.policy, cached=False)
            async with self.store.transaction("small") as tx:
                return fresh, await tx.load_book(self.deps.policy)

        fresh, cached = self.run(both())
        assert cached.placements == fresh.placements
        assert cached.slots == fresh.slots
        assert cached.announced_positions == fresh.announced_positions
        assert not cached.changes

    @rule(
        preferences=st.lists(st.sampled_from(SESSIONS), max_size=3, unique=True),
        town=st.sampled_from(TOWNS),
        redeliver=st.booleans(),
    )
    def register(self, preferences: list[str], town: str, redeliver: bool) -> None:
        submitted = registration(*preferences, organisation=town)
        self.run(handlers.place_registration(submitted, self.deps))
        if redeliver:
            self.run(handlers.place_registration(submitted, self.deps))
        self.registered.append(submitted.registration_id)

    @precondition(lambda self: self.registered)
    @rule(data=st.data(), by=st.sampled_from(["participant", "staff"]))
    def cancel(self, data: st.DataObject, by: str) -> None:
        registration_id = data.draw(st.sampled_from(self.registered))
        request = CancellationRequestedV1(
            **envelope(), registration_id=registration_id, programme_id="small", requested_by=by
        )
        self.run(handlers.cancel_registration(request, self.deps))
        self.ended.add(registration_id)

    @precondition(lambda self: self.registered)
    @rule(data=st.data())
    def erase(self, data: st.DataObject) -> None:
        registration_id = data.draw(st.sampled_from(self.registered))
        request = ErasureRequestedV1(
            **envelope(), registration_id=registration_id, programme_id="small"
        )
        self.run(handlers.erase_registration(request, self.deps))
        self.ended.add(registration_id)

    @rule(data=st.data(), accepted=st.booleans(), stale=st.booleans())
    def answer(self, data: st.DataObject, accepted: bool, stale: bool) -> None:
        offered = [p for p in self.book().placements.values() if p.status == "offered"]
        if not offered:
            return
        placement = data.draw(st.sampled_from(offered))
        answer = OfferAnsweredV1(
            **envelope(),
            registration_id=placement.registration_id,
            programme_id="small",
            session_id=placement.session_id or "",
            offer_revision=placement.revision - (1 if stale else 0),
            accepted=accepted,
        )
        self.run(handlers.answer_offer(answer, self.deps))

    @rule(session_id=st.sampled_from(SESSIONS), days=st.integers(1, 3))
    def reschedule(self, session_id: str, days: int) -> None:
        current = self.stored(session_id)
        if current is None:
            return
        moved = [d.model_copy(update={"date": d.date + timedelta(days=days)}) for d in current.days]
        self.change(current.model_copy(update={"days": tuple(moved)}))

    @rule(session_id=st.sampled_from(SESSIONS), capacity=st.integers(1, 4))
    def resize(self, session_id: str, capacity: int) -> None:
        current = self.stored(session_id)
        if current is not None:
            self.change(current.model_copy(update={"capacity": capacity}))

    @rule(session_id=st.sampled_from(SESSIONS))
    def cancel_session(self, session_id: str) -> None:
        self.run(sessions.cancel_session(self.deps, "small", session_id, correlation_id="staff"))

    @rule(hours=st.sampled_from([1, 47, 49, 24 * 60]))
    def tick(self, hours: int) -> None:
        self.deps.clock.advance(timedelta(hours=hours))  # type: ignore[attr-defined]
        self.run(handlers.tick(self.deps))

    def stored(self, session_id: str) -> Any:
        async def load() -> Any:
            async with self.store.transaction("small") as tx:
                return (await tx.sessions())[session_id]

        stored = self.run(load())
        return None if stored.cancelled else stored.session

    def change(self, session: Any) -> None:
        self.run(sessions.change_session(self.deps, "small", session, correlation_id="staff"))

    @invariant()
    def capacity_and_caps_hold(self) -> None:
        book = self.book()
        for slot in book.slots.values():
            holders = book.holders(slot.session_id)
            assert len(holders) <= (0 if slot.cancelled else slot.capacity)
            towns = [p.request.municipality for p in holders]
            assert all(towns.count(t) <= self.cap for t in towns)

    @invariant()
    def nothing_lost_and_events_match_the_stored_state(self) -> None:
        book = self.book()
        assert set(book.placements) == set(self.registered)
        projected = self.projection()
        silent = {r for r, p in book.placements.items() if p.status == "pending"}
        assert set(projected) == set(self.registered) - silent  # at_close: pending until the close
        assert self.mode == "at_close" or not silent
        for registration_id, placement in book.placements.items():
            if registration_id in silent:
                continue
            assert projected[registration_id] == (
                placement.status,
                placement.session_id,
                placement.revision,
            )
            if placement.status == "cancelled":
                assert registration_id in self.ended
        seats = [(s, r) for r, (status, s, _) in projected.items() if status == "assigned"]
        assert len({r for _, r in seats}) == len(seats)  # nobody holds two seats

    @invariant()
    def the_last_announced_waitlist_position_is_the_true_one(self) -> None:
        announced: dict[UUID, int] = {}
        for event in self.broker.published:
            if getattr(event, "event_type", None) == "registration.waitlisted":
                announced[event.registration_id] = event.position
        assert {r: announced.get(r) for r in self.book().positions()} == self.book().positions()

    @invariant()
    def no_fitting_person_waits_while_a_seat_is_free(self) -> None:
        book = self.book()
        now = self.deps.clock.now()
        for slot in book.slots.values():
            offer = book.offer(slot)
            if slot.cancelled or now >= slot.starts_at - book.policy.offer_cutoff:
                continue
            for placement in book.waitlist():
                fits = (
                    acceptable(placement.request, offer) and offer.misfit(placement.request) is None
                )
                free = offer.room_for(placement.request) is None
                assert not (fits and free and slot.session_id not in placement.declined)

    def projection(self) -> dict[UUID, tuple[str, str | None, int]]:
        """Fold the published placement events: revisions must run 1, 2, 3... per registration."""
        state: dict[UUID, tuple[str, str | None, int]] = {}
        for event in self.broker.published:
            registration_id = getattr(event, "registration_id", None)
            if registration_id is None:
                continue
            _, _, revision = state.get(registration_id, ("", None, 0))
            assert event.revision == revision + 1, "revisions must not skip or repeat"
            state[registration_id] = _fold(event, state.get(registration_id))
        return state


def _fold(event: Any, before: tuple[str, str | None, int] | None) -> tuple[str, str | None, int]:
    session = getattr(event, "session", None)
    session_id = None if session is None else session.session_id
    status = {
        "seat.assigned": "assigned",
        "seat.updated": "assigned",
        "seat.offered": "offered",
        "registration.waitlisted": "waitlisted",
        "registration.cancelled": "cancelled",
    }.get(event.event_type)
    if status is None:  # seat.released: the next event of the same step says where they go
        assert before is not None
        return (before[0], before[1], event.revision)
    return (status, None if status in ("waitlisted", "cancelled") else session_id, event.revision)


SchedulerMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("SCHEDULER_MACHINE_EXAMPLES", "15")),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_scheduler_invariants = SchedulerMachine.TestCase


class AtCloseMachine(SchedulerMachine):
    """The same, for an at_close programme: silent until the close, then one optimal assignment."""

    mode = "at_close"
    cap = 1

    @rule()
    def reach_the_close(self) -> None:
        deadline = closes_at(self.book())
        now = self.deps.clock.now()
        if deadline is not None and now < deadline:
            self.deps.clock.advance(deadline - now)  # type: ignore[attr-defined]
        self.run(handlers.tick(self.deps))


AtCloseMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("SCHEDULER_MACHINE_EXAMPLES", "15")),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_at_close_invariants = AtCloseMachine.TestCase
