"""Staff changes: reschedule, resize, cancel and add sessions; who is told what."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.scheduler.domain import staff
from services.scheduler.domain.waitlist import cancel
from tests.unit.scheduler.builders import NOW, book, fill, request, rid, slot

pytestmark = pytest.mark.unit


def test_an_update_tells_assignees_but_not_the_waitlist() -> None:
    b = book(slot(1, capacity=1))
    fill(b, request("s1"), request("s1"))
    b.changes.clear()
    moved = replace(slot(1, capacity=1), starts_at=slot(1).starts_at + timedelta(hours=2))
    staff.update_session(b, moved, ("time",), NOW)
    assert [(c.kind, c.registration_id, c.changes) for c in b.changes] == [
        ("updated", rid(1), ("time",))
    ]


def test_a_capacity_cut_withdraws_offers_first_then_the_latest_seats() -> None:
    b = book(slot(1, capacity=3))
    fill(b, *[request("s1")] * 5)
    cancel(b, rid(2), "participant", NOW)  # rid(4) gets an offer
    b.changes.clear()
    staff.resize(b, "s1", 1, NOW)
    assert [(c.kind, c.registration_id.int, c.moved) for c in b.changes] == [
        ("waitlisted", 4, False),
        ("released", 3, False),
        ("waitlisted", 3, False),
    ]
    assert b.changes[1].release_reason == "capacity_reduced"
    assert [p.registration_id for p in b.holders("s1")] == [rid(1)]


def test_a_capacity_rise_offers_the_new_seats() -> None:
    b = book(slot(1, capacity=1))
    fill(b, request("s1"), request("s1"), request("s1"))
    staff.resize(b, "s1", 3, NOW)
    assert [b.placements[rid(n)].status for n in (1, 2, 3)] == ["assigned", "offered", "offered"]


def test_a_cancelled_session_re_places_by_remaining_preferences_else_waitlists() -> None:
    b = book(slot(1, capacity=2), slot(2, capacity=1), slot(3, capacity=5))
    fill(b, request("s1", "s2"), request("s1", "s2"))
    b.changes.clear()
    staff.cancel_session(b, "s1", NOW)
    kinds = [(c.kind, c.registration_id.int, c.session_id) for c in b.changes]
    assert kinds == [
        ("released", 1, "s1"),
        ("assigned", 1, "s2"),
        ("released", 2, "s1"),
        ("waitlisted", 2, None),
    ]
    assert {c.release_reason for c in b.changes if c.kind == "released"} == {"session_cancelled"}
    assert b.changes[1].reason == "session s1 cancelled; 2nd choice: 1st choice not offered"
    assert b.slots["s1"].cancelled
    assert b.holders("s1") == []


def test_re_placement_after_a_late_cancel_ignores_closed_registration() -> None:
    b = book(slot(1, capacity=1), slot(2, capacity=1))
    fill(b, request("s1", "s2"))
    late = slot(2).closes_at + timedelta(days=1)  # s2 no longer takes registrations
    staff.cancel_session(b, "s1", late)
    assert b.placements[rid(1)].session_id == "s2"


def test_a_new_session_offers_seats_to_the_waiting_without_preferences() -> None:
    b = book(slot(1, capacity=1))
    fill(b, request(), request(), request("s1"))
    staff.add_session(b, slot(2, capacity=5), NOW)
    assert b.placements[rid(2)].status == "offered"
    assert b.placements[rid(3)].status == "waitlisted"  # s2 is not among its preferences


def test_without_preferences_people_follow_a_session_moved_later_and_a_new_earlier_one() -> None:
    b = book(slot(1, capacity=5), slot(2, capacity=5))
    fill(b, request())  # the earliest: s1
    later = replace(slot(1, capacity=5), starts_at=slot(3).starts_at)
    staff.update_session(b, later, ("time",), NOW)
    fill(b, request(), start=2)  # s2 is the earliest now
    staff.add_session(b, slot(0, capacity=5), NOW)
    fill(b, request(), start=3)  # and now the new s0
    assert [b.get(rid(n)).session_id for n in (1, 2, 3)] == ["s1", "s2", "s0"]
