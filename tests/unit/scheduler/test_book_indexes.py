"""The book's shortcuts (sessions skipped as full, sessions with room) agree with a plain recount.

Random registrations, cancellations, declines, capacity changes, cancelled sessions and ticks;
after every step the book must answer as if it looked at every session afresh, and no free seat
that may still be offered is left with a fitting person on the waitlist.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.domain import Book, staff
from services.scheduler.domain.assignment import acceptable, default_order, open_to_anyone
from services.scheduler.domain.waitlist import answer, cancel, register, tick
from tests.unit.scheduler.builders import NOW, book, request, rid, slot

pytestmark = pytest.mark.unit

LANGUAGES = ("sr-Latn", "en")
SESSIONS = st.lists(
    st.builds(
        lambda n, capacity, language, mode: slot(
            n, capacity=capacity, language=language, mode=mode
        ),
        st.integers(min_value=0, max_value=6),
        st.integers(min_value=1, max_value=3),
        st.sampled_from([*LANGUAGES, "sr-Latn"]),
        st.sampled_from(["in_person", "in_person", "online"]),
    ),
    min_size=1,
    max_size=5,
)
PREFERENCES = st.one_of(
    st.just([]),  # no preferences: the default order, where full sessions are skipped
    st.lists(st.sampled_from([f"s{n}" for n in range(7)]), min_size=1, max_size=2, unique=True),
)
ACTIONS = ["register", "register", "cancel", "cancel", "decline", "accept", "resize", "close"]
STEPS = st.lists(
    st.tuples(
        st.sampled_from([*ACTIONS, "tick"]),
        st.integers(min_value=0, max_value=40),
        PREFERENCES,
        st.sampled_from([*LANGUAGES, "sr-Latn", "bs"]),
    ),
    max_size=40,
)


def plain_by_default(b: Book, language: str) -> list[str]:
    """The sessions tried without preferences, recounted from scratch."""
    eligible = sorted(filter(open_to_anyone, b.slots.values()), key=default_order(language))
    return [s.session_id for s in eligible if not s.cancelled and b.offer(s).taken < s.capacity]


def plain_with_room(b: Book) -> tuple[str, ...]:
    """The running sessions with a free seat, recounted from scratch."""
    running = [b.slots[sid] for sid in sorted(b.slots) if not b.slots[sid].cancelled]
    return tuple(s.session_id for s in running if b.offer(s).taken < s.capacity)


def step(b: Book, action: str, n: int, preferences: list[str], language: str) -> None:
    """Apply one random action; ids that do not apply are skipped."""
    known = sorted(b.placements, key=lambda registration_id: registration_id.int)
    target = b.placements.get(known[n % len(known)]) if known else None
    session_id = sorted(b.slots)[n % len(b.slots)]
    if action == "register":
        register(b, rid(len(b.placements) + 1), request(*preferences, language=language), NOW)
    elif action == "cancel" and target is not None:
        cancel(b, target.registration_id, "participant", NOW)
    elif action in ("decline", "accept") and target is not None and target.status == "offered":
        offered = target.session_id or ""
        answer(
            b,
            target.registration_id,
            offered,
            target.revision,
            accepted=action == "accept",
            now=NOW,
        )
    elif action == "resize" and not b.slots[session_id].cancelled:
        staff.resize(b, session_id, 1 + n % 3, NOW)
    elif action == "close" and not b.slots[session_id].cancelled:
        staff.cancel_session(b, session_id, NOW)
    elif action == "tick":
        tick(b, NOW + timedelta(hours=n))


def nobody_fitting_waits_for_a_free_seat(b: Book) -> bool:
    for session_id in plain_with_room(b):
        offer = b.offer(b.slots[session_id])
        if offer.starts_at - b.policy.offer_cutoff <= NOW:
            continue
        for placement in b.waitlist():
            request = placement.request
            fits = acceptable(request, offer) and session_id not in placement.declined
            if fits and offer.misfit(request) is None and offer.room_for(request) is None:
                return False
    return True


@settings(max_examples=300, deadline=None, database=None)
@given(SESSIONS, STEPS)
def test_the_shortcuts_agree_with_a_plain_recount_after_every_step(
    sessions: list[object], steps: list[tuple[str, int, list[str], str]]
) -> None:
    b = book(*{s.session_id: s for s in sessions}.values())  # type: ignore[attr-defined]
    for action, n, preferences, language in steps:
        step(b, action, n, preferences, language)
        for spoken in (*LANGUAGES, "bs"):
            assert [o.session_id for o in b.by_default(spoken)] == plain_by_default(b, spoken)
        assert b.sessions_with_room() == plain_with_room(b)
        assert nobody_fitting_waits_for_a_free_seat(b)


def test_a_seat_given_up_in_a_skipped_full_session_is_found_again() -> None:
    b = book(slot(1, capacity=1), slot(2, capacity=1), slot(3, capacity=1))
    register(b, rid(1), request(), NOW)  # s1
    register(b, rid(2), request(), NOW)  # s2: s1 is skipped as full from now on
    cancel(b, rid(1), "participant", NOW)  # nobody waits: s1's seat stays free
    register(b, rid(3), request(), NOW)
    assert b.placements[rid(3)].session_id == "s1"
    assert b.sessions_with_room() == ("s3",)
