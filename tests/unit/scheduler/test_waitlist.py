"""The waitlist rules: offers to the next fitting person, deadlines, lapses, cut-off, erasure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.scheduler.domain import Request, Slot, UnknownRegistration, WaitlistPolicy
from services.scheduler.domain.assignment import assign
from services.scheduler.domain.waitlist import answer, cancel, erase, register, tick
from tests.unit.scheduler.builders import NOW, book, fill, request, rid, slot

pytestmark = pytest.mark.unit


def kinds(b: object) -> list[tuple[str, int]]:
    return [(c.kind, c.registration_id.int) for c in b.changes]  # type: ignore[attr-defined]


def test_registration_is_idempotent_per_registration_id() -> None:
    b = book(slot(1, capacity=1))
    first = register(b, rid(1), request("s1"), NOW)
    again = register(b, rid(1), request("s1"), NOW)
    assert again is first
    assert kinds(b) == [("assigned", 1)]


def test_cancel_releases_then_offers_the_seat_to_the_first_fitting_waiter() -> None:
    b = book(slot(1, capacity=1))
    fill(b, request("s1"), request("s1"), request("s1"))
    b.changes.clear()
    cancel(b, rid(1), "participant", NOW)
    assert kinds(b) == [("released", 1), ("cancelled", 1), ("offered", 2)]
    offer = b.changes[-1]
    assert offer.expires_at == NOW + timedelta(hours=48)
    assert (b.placements[rid(2)].status, b.placements[rid(3)].status) == ("offered", "waitlisted")
    assert len(b.holders("s1")) == 1  # the offer holds the seat


def test_revisions_rise_by_one_with_every_change() -> None:
    b = book(slot(1, capacity=1))
    fill(b, request("s1"), request("s1"))
    cancel(b, rid(1), "staff", NOW)
    answer(b, rid(2), "s1", b.placements[rid(2)].revision, accepted=True, now=NOW)
    by_id: dict[int, list[int]] = {}
    for change in b.changes:
        by_id.setdefault(change.registration_id.int, []).append(change.revision)
    assert by_id == {1: [1, 2, 3], 2: [1, 2, 3]}
    assert b.changes[2].release_reason == "staff_cancelled"


def test_decline_keeps_the_decliner_waiting_for_other_sessions_only() -> None:
    b = book(slot(1, capacity=1), slot(2, capacity=1))
    fill(b, request("s1"), request("s2"), request("s1", "s2"), request("s1"))
    cancel(b, rid(1), "participant", NOW)
    assert b.placements[rid(3)].status == "offered"
    assert answer(b, rid(3), "s1", b.placements[rid(3)].revision, accepted=False, now=NOW)
    assert b.placements[rid(3)].status == "waitlisted"
    assert b.placements[rid(4)].status == "offered"
    cancel(b, rid(4), "participant", NOW)  # s1 is free again: rid(3) declined it, nobody else fits
    assert b.placements[rid(3)].status == "waitlisted"
    cancel(b, rid(2), "participant", NOW)  # s2 frees: rid(3) still wants it
    assert (b.placements[rid(3)].status, b.placements[rid(3)].session_id) == ("offered", "s2")


def test_stale_or_foreign_answers_change_nothing() -> None:
    b = book(slot(1, capacity=1))
    fill(b, request("s1"), request("s1"))
    cancel(b, rid(1), "participant", NOW)
    revision = b.placements[rid(2)].revision
    b.changes.clear()
    assert not answer(b, rid(2), "s1", revision - 1, accepted=True, now=NOW)
    assert not answer(b, rid(2), "s2", revision, accepted=True, now=NOW)
    assert not answer(b, rid(1), "s1", 3, accepted=True, now=NOW)
    expired = NOW + timedelta(hours=48)
    assert not answer(b, rid(2), "s1", revision, accepted=True, now=expired)
    assert b.changes == []


def test_lapsed_offers_cascade_on_the_tick() -> None:
    b = book(slot(1, capacity=1), policy=WaitlistPolicy(offer_ttl=timedelta(hours=24)))
    fill(b, request("s1"), request("s1"), request("s1"))
    cancel(b, rid(1), "participant", NOW)
    b.changes.clear()
    tick(b, NOW + timedelta(hours=23))
    assert b.changes == []
    tick(b, NOW + timedelta(hours=24))
    assert kinds(b) == [("waitlisted", 2), ("offered", 3)]
    assert b.changes[0].reason == "the offer for s1 lapsed"


def test_no_offers_within_the_cut_off_and_offers_end_at_it() -> None:
    s1 = slot(1, capacity=1)
    b = book(
        s1, policy=WaitlistPolicy(offer_ttl=timedelta(hours=48), offer_cutoff=timedelta(hours=24))
    )
    fill(b, request("s1"), request("s1"), request("s1"))
    cancel(b, rid(1), "participant", s1.starts_at - timedelta(hours=30))
    assert b.placements[rid(2)].expires_at == s1.starts_at - timedelta(hours=24)
    cancel(b, rid(2), "participant", s1.starts_at - timedelta(hours=23))
    assert b.placements[rid(3)].status == "waitlisted"
    tick(b, s1.starts_at - timedelta(hours=1))
    assert b.placements[rid(3)].status == "waitlisted"


def test_the_waitlist_respects_dates_language_and_the_municipality_cap() -> None:
    s1 = slot(1, capacity=2, municipality_cap=1)
    b = book(s1)
    fill(
        b,
        request("s1", municipality="bor"),
        request("s1", municipality="niš"),
        request("s1", unavailable=s1.dates),
        request("s1", language="en"),
        request("s1", municipality="bor"),
        request("s1", municipality="čačak"),
    )
    cancel(b, rid(2), "participant", NOW)  # bor already holds its one seat
    assert b.placements[rid(6)].status == "offered"
    assert [b.placements[rid(n)].status for n in (3, 4, 5)] == ["waitlisted"] * 3


def test_a_bosnian_speaker_fits_a_serbian_session_but_not_an_english_one() -> None:
    b = book(slot(1, capacity=5), slot(2, capacity=5, language="en"))
    fill(b, request("s2", "s1", language="bs"))
    assert b.placements[rid(1)].session_id == "s1"
    assert b.placements[rid(1)].reason == "2nd choice: 1st choice in another language"


def test_erasure_forgets_the_request_and_announces_only_the_cancellation() -> None:
    b = book(slot(1, capacity=1))
    fill(b, request("s1", municipality="bor"), request("s1"))
    b.changes.clear()
    assert erase(b, rid(1), NOW)
    assert kinds(b) == [("cancelled", 1), ("offered", 2)]
    assert b.changes[0].cancelled_by == "erasure"
    assert b.placements[rid(1)].request.municipality == ""
    assert not erase(b, rid(99), NOW)


def test_cancelling_an_unknown_registration_is_an_error() -> None:
    with pytest.raises(UnknownRegistration):
        cancel(book(slot(1)), rid(5), "participant", NOW)


def test_positions_follow_arrival_order() -> None:
    b = book(slot(1, capacity=1))
    fill(b, request("s1"), request("s1"), request("s1"), request("s1"))
    assert [c.position for c in b.changes if c.kind == "waitlisted"] == [1, 2, 3]
    cancel(b, rid(2), "participant", NOW)
    assert b.position(b.placements[rid(4)]) == 2


SLOTS = st.builds(
    lambda n, capacity, language, mode, cancelled: slot(
        n, capacity=capacity, language=language, mode=mode, cancelled=cancelled
    ),
    st.integers(min_value=0, max_value=8),
    st.integers(min_value=1, max_value=3),
    st.sampled_from(["sr-Latn", "sr-Cyrl", "en"]),
    st.sampled_from(["in_person", "online"]),
    st.booleans(),
)
REQUESTS = st.builds(
    lambda preferences, language: request(*preferences, language=language),
    st.lists(st.sampled_from([f"s{n}" for n in range(9)]), max_size=3, unique=True),
    st.sampled_from(["sr-Latn", "bs", "en"]),
)


@given(st.lists(SLOTS, min_size=1, max_size=6), st.lists(REQUESTS, max_size=12), REQUESTS)
def test_the_book_places_as_the_plain_rules_do_over_its_offers(
    slots: list[Slot], earlier: list[Request], probe: Request
) -> None:
    b = book(*{s.session_id: s for s in slots}.values())
    fill(b, *earlier)  # some sessions fill up, some people wait
    for when in (NOW, NOW + timedelta(days=300)):  # open, then closed
        assert assign(probe, b, when) == assign(probe, b.offers(), when)
