"""First-come assignment rules: choices, full sessions, unavailable dates, deadlines, waitlist."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.scheduler.domain import Offer, Request, assign, ordinal

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def offer(n: int, *, capacity: int = 24, taken: int = 0, **changes: object) -> Offer:
    """Training session n: two days in June 2027, registration open until a week before."""
    first = date(2027, 6, 1) + timedelta(days=7 * n)
    starts_at = datetime(first.year, first.month, first.day, 7, 30, tzinfo=UTC)
    base = Offer(
        session_id=f"t{n}",
        phase="training",
        mode="in_person",
        language="sr-Latn",
        dates=(first, first + timedelta(days=1)),
        starts_at=starts_at,
        closes_at=starts_at - timedelta(days=7),
        capacity=capacity,
        taken=taken,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def request(
    *preferences: str, unavailable: tuple[date, ...] = (), language: str = "sr-Latn"
) -> Request:
    return Request(
        preferences=preferences, unavailable_dates=frozenset(unavailable), language=language
    )


def test_first_choice_when_it_has_room() -> None:
    decision = assign(request("t2", "t1"), [offer(1), offer(2)], NOW)
    assert (decision.session_id, decision.rank, decision.reason) == ("t2", 1, "1st choice")
    assert not decision.waitlisted


def test_second_choice_when_first_is_full() -> None:
    decision = assign(request("t1", "t2"), [offer(1, capacity=2, taken=2), offer(2)], NOW)
    assert (decision.session_id, decision.rank) == ("t2", 2)
    assert decision.reason == "2nd choice: 1st choice full"


def test_unavailable_dates_skip_a_session() -> None:
    t1 = offer(1)
    decision = assign(request("t1", "t2", unavailable=(t1.dates[1],)), [t1, offer(2)], NOW)
    assert decision.session_id == "t2"
    assert decision.reason == "2nd choice: 1st choice clashes with unavailable dates"


def test_closed_registration_skips_a_session() -> None:
    t1 = offer(1)
    decision = assign(request("t1", "t2"), [t1, offer(2)], t1.closes_at)
    assert decision.reason == "2nd choice: 1st choice registration closed"


def test_unknown_preference_is_skipped() -> None:
    decision = assign(request("nope", "t1"), [offer(1)], NOW)
    assert (decision.session_id, decision.reason) == ("t1", "2nd choice: 1st choice not offered")


def test_waitlisted_when_all_preferences_are_full() -> None:
    offers = [offer(n, capacity=1, taken=1) for n in (1, 2, 3)]
    decision = assign(request("t1", "t2", "t3"), offers, NOW)
    assert decision.waitlisted
    assert decision.rank is None
    assert decision.reason == "waitlisted: all 3 preferences full"


def test_waitlist_reason_lists_mixed_obstacles() -> None:
    t2 = offer(2)
    offers = [offer(1, capacity=1, taken=1), t2]
    decision = assign(request("t1", "t2", unavailable=(t2.dates[0],)), offers, NOW)
    assert (
        decision.reason == "waitlisted: 1st choice full, 2nd choice clashes with unavailable dates"
    )


def test_no_preference_takes_earliest_fitting_in_person_training() -> None:
    offers = [
        offer(3),
        offer(1, capacity=1, taken=1),
        offer(0, mode="online"),
        offer(-1, phase="mentoring"),
        offer(2),
    ]
    decision = assign(request(), offers, NOW)
    assert (decision.session_id, decision.rank) == ("t2", None)


def test_no_preference_prefers_own_language() -> None:
    decision = assign(request(language="bs"), [offer(1), offer(2, language="bs")], NOW)
    assert decision.session_id == "t2"


def test_no_preference_waitlisted_when_nothing_fits() -> None:
    decision = assign(request(), [offer(1, capacity=1, taken=1)], NOW)
    assert decision.waitlisted
    assert decision.reason.startswith("waitlisted: no preference")


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (21, "21st")],
)
def test_ordinal(n: int, expected: str) -> None:
    assert ordinal(n) == expected


SESSION_IDS = ["t1", "t2", "t3", "nope"]
requests = st.builds(
    lambda preferences, unavailable: request(*preferences, unavailable=tuple(unavailable)),
    st.lists(st.sampled_from(SESSION_IDS), unique=True, max_size=4),
    st.lists(st.dates(date(2027, 6, 7), date(2027, 6, 24)), max_size=3),
)


@given(
    capacities=st.lists(st.integers(min_value=1, max_value=4), min_size=3, max_size=3),
    stream=st.lists(requests, max_size=40),
    minutes=st.lists(st.integers(min_value=0, max_value=60 * 24 * 40), max_size=40),
)
def test_never_more_assignees_than_capacity(
    capacities: list[int], stream: list[Request], minutes: list[int]
) -> None:
    offers = {f"t{n}": offer(n, capacity=c) for n, c in zip((1, 2, 3), capacities, strict=True)}
    moments = sorted(NOW + timedelta(minutes=m) for m in minutes) or [NOW]
    for i, req in enumerate(stream):
        now = moments[min(i, len(moments) - 1)]
        decision = assign(req, list(offers.values()), now)
        if decision.session_id is None:
            continue
        chosen = offers[decision.session_id]
        assert now < chosen.closes_at
        assert not req.unavailable_dates.intersection(chosen.dates)
        offers[chosen.session_id] = replace(chosen, taken=chosen.taken + 1)
    assert all(o.taken <= o.capacity for o in offers.values())
