"""`at_close`: one min-cost-flow assignment at the deadline, checked against brute force and a
second, independent algorithm; and how it compares with first come, first served."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from datetime import timedelta

import networkx as nx  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.domain import Book, Offer, Request
from services.scheduler.domain.closing import close_if_due, closes_at, collect
from services.scheduler.domain.optimal import Candidate, fits, optimal_assignment, rank_cost
from services.scheduler.domain.waitlist import register
from tests.unit.scheduler.builders import NOW, book, request, rid, slot

pytestmark = pytest.mark.unit


def test_nothing_happens_before_the_close_then_everyone_is_decided() -> None:
    b = book(slot(1, capacity=1), slot(2, capacity=1))
    for n, req in enumerate([request("s1", "s2"), request("s1"), request("s1")], start=1):
        collect(b, rid(n), req)
    deadline = closes_at(b)
    assert deadline is not None
    close_if_due(b, "at_close", deadline - timedelta(seconds=1))
    assert b.changes == []
    close_if_due(b, "at_close", deadline)
    placed = {c.registration_id.int: (c.kind, c.session_id, c.reason) for c in b.changes}
    assert placed == {
        1: ("assigned", "s2", "2nd choice (best overall assignment at close)"),
        2: ("assigned", "s1", "1st choice (best overall assignment at close)"),
        3: ("waitlisted", None, "waitlisted at close: no seat left in a fitting session"),
    }
    b.changes.clear()
    close_if_due(b, "at_close", deadline + timedelta(days=1))
    assert b.changes == []  # closes once


def test_first_come_programmes_are_never_closed() -> None:
    b = book(slot(1))
    collect(b, rid(1), request("s1"))
    close_if_due(b, "first_come", NOW + timedelta(days=365))
    assert b.placements[rid(1)].status == "pending"


def test_arrival_order_breaks_ties() -> None:
    offers = book(slot(1, capacity=2)).offers()
    candidates = [Candidate(rid(n), request("s1")) for n in range(1, 5)]
    assert sorted(optimal_assignment(candidates, offers)) == [rid(1), rid(2)]


def test_the_municipality_cap_holds_at_close() -> None:
    offers = book(slot(1, capacity=3, municipality_cap=1), slot(2, capacity=3)).offers()
    candidates = [Candidate(rid(n), request("s1", municipality="bor")) for n in range(1, 4)]
    candidates.append(Candidate(rid(4), request("s1", "s2", municipality="bor")))
    chosen = optimal_assignment(candidates, offers)
    assert chosen == {rid(1): ("s1", 1), rid(4): ("s2", 2)}


def score(chosen: dict[object, tuple[str, int | None]], people: int) -> tuple[int, int]:
    """(people waitlisted, total rank cost): lower is better, in that order."""
    return people - len(chosen), sum(rank_cost(rank) for _, rank in chosen.values())


def brute_force(candidates: Sequence[Candidate], offers: Sequence[Offer]) -> tuple[int, int]:
    options = [[None, *fits(c.request, offers)] for c in candidates]
    best = (len(candidates) + 1, 0)
    for combo in itertools.product(*options):
        seats = [seat for seat in combo if seat is not None]
        per_session = {o.session_id: [s for s in seats if s[0] == o.session_id] for o in offers}
        if any(len(per_session[o.session_id]) > o.capacity - o.taken for o in offers):
            continue
        towns = [
            (seat[0], c.request.municipality)
            for c, seat in zip(candidates, combo, strict=True)
            if seat is not None
        ]
        caps = {o.session_id: o.municipality_cap for o in offers}
        if any(cap is not None and towns.count(t) > cap for t in towns if (cap := caps[t[0]])):
            continue
        chosen = {i: seat for i, seat in enumerate(combo) if seat is not None}
        best = min(best, score(chosen, len(candidates)))
    return best


people = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["s1", "s2", "s3"]), max_size=3, unique=True),
        st.sampled_from(["bor", "niš"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(people=people, capacities=st.tuples(*[st.integers(1, 2)] * 3), cap=st.none() | st.just(1))
def test_the_flow_matches_brute_force_on_small_instances(
    people: list[tuple[list[str], str]], capacities: tuple[int, int, int], cap: int | None
) -> None:
    offers = book(
        *[slot(n, capacity=c, municipality_cap=cap) for n, c in enumerate(capacities, 1)]
    ).offers()
    candidates = [Candidate(rid(n), request(*p, municipality=m)) for n, (p, m) in enumerate(people)]
    chosen = optimal_assignment(candidates, offers)
    assert score(chosen, len(candidates)) == brute_force(candidates, offers)


def generated(seed: int, count: int) -> list[Request]:
    """Registrants who mostly want the same popular sessions, three ranked choices each."""
    rng = random.Random(seed)
    sessions = ["s1", "s2", "s3", "s4", "s5"]
    weights = [8, 5, 3, 2, 1]
    result = []
    for _ in range(count):
        ranked: list[str] = []
        while len(ranked) < 3:
            pick = rng.choices(sessions, weights)[0]
            if pick not in ranked:
                ranked.append(pick)
        result.append(request(*ranked))
    return result


def matching_optimum(requests: Sequence[Request], b: Book) -> tuple[int, int]:
    """An independent optimum: maximum-cardinality, maximum-weight bipartite matching to seats."""
    graph = nx.Graph()
    offers = b.offers()
    for i, req in enumerate(requests):
        for session_id, rank in fits(req, offers):
            capacity = b.slots[session_id].capacity
            for seat in range(capacity):
                graph.add_edge(("p", i), ("seat", session_id, seat), weight=10 - rank_cost(rank))
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    costs = []
    for u, v in matching:
        person, seat = (u, v) if u[0] == "p" else (v, u)
        rank = requests[person[1]].preferences.index(seat[1]) + 1
        costs.append(rank_cost(rank))
    return len(requests) - len(costs), sum(costs)


def test_at_close_beats_first_come_and_reaches_the_optimum() -> None:
    requests = generated(seed=2027, count=60)
    slots = [slot(n, capacity=10) for n in range(1, 6)]
    first_come = book(*slots)
    for n, req in enumerate(requests):
        register(first_come, rid(n), req, NOW)
    fc_seated = {
        p.registration_id: (p.session_id or "", p.rank)
        for p in first_come.placements.values()
        if p.status == "assigned"
    }
    at_close = book(*slots)
    for n, req in enumerate(requests):
        collect(at_close, rid(n), req)
    close_if_due(at_close, "at_close", NOW + timedelta(days=365))
    ac_seated = {
        p.registration_id: (p.session_id or "", p.rank)
        for p in at_close.placements.values()
        if p.status == "assigned"
    }
    fc, ac = score(fc_seated, len(requests)), score(ac_seated, len(requests))
    optimum = matching_optimum(requests, at_close)
    first_choices = {
        name: sum(rank == 1 for _, rank in seated.values())
        for name, seated in (("first_come", fc_seated), ("at_close", ac_seated))
    }
    print(  # shown with `pytest -s`: the numbers the README quotes
        f"\n60 registrants, 5 sessions x 10 seats, 3 ranked choices each:"
        f"\n  first_come: waitlisted={fc[0]} total rank cost={fc[1]} first choices={first_choices['first_come']}"
        f"\n  at_close:   waitlisted={ac[0]} total rank cost={ac[1]} first choices={first_choices['at_close']}"
        f"\n  optimum:    waitlisted={optimum[0]} total rank cost={optimum[1]}"
    )
    assert ac == optimum
    assert ac <= fc
    assert ac[1] < fc[1] or ac[0] < fc[0]
