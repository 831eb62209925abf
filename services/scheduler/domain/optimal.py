"""The best assignment of many registrations at once, as a min-cost flow (networkx).

Network: source → registrant (1 unit) → session-and-municipality → session → sink, with the
session's free seats and the municipality cap as capacities; and registrant → sink directly (the
waitlist) at a cost higher than any seating could save. Costs, lexicographically: seat as many
people as possible, then the lowest total preference rank (1st choice costs 0), then earlier
arrivals first (the tie-break).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from uuid import UUID

import networkx as nx  # type: ignore[import-untyped]

from services.scheduler.domain.assignment import Offer, Request, acceptable

Seat = tuple[str, int | None]
"""A session id and the rank of the preference it meets (None: no preferences given)."""


@dataclass(frozen=True)
class Candidate:
    """A registration to place, in arrival order."""

    registration_id: UUID
    request: Request


def fits(request: Request, offers: Sequence[Offer]) -> Iterator[Seat]:
    """Sessions the registrant would take and can attend, ignoring how full they are."""
    for offer in offers:
        if acceptable(request, offer) and offer.misfit(request) is None:
            prefs = request.preferences
            yield offer.session_id, (prefs.index(offer.session_id) + 1 if prefs else None)


def rank_cost(rank: int | None) -> int:
    """0 for a first choice (or no preference), 1 for a second, and so on."""
    return 0 if rank is None else rank - 1


def optimal_assignment(
    candidates: Sequence[Candidate], offers: Sequence[Offer]
) -> dict[UUID, Seat]:
    """Seat as many as possible, with the best total rank, earlier arrivals first."""
    n = len(candidates)
    if n == 0:
        return {}
    tie = n * n + 1  # one rank step outweighs every arrival tie-break together
    worst = max((len(c.request.preferences) for c in candidates), default=1) or 1
    waitlisted = (n * worst + 1) * tie  # one more seat outweighs every rank cost together
    graph = nx.DiGraph()
    graph.add_node("source", demand=-n)
    graph.add_node("sink", demand=n)
    for offer in offers:
        graph.add_edge(
            ("session", offer.session_id),
            "sink",
            capacity=max(0, offer.capacity - offer.taken),
            weight=0,
        )
    for arrival, candidate in enumerate(candidates):
        person = ("person", arrival)
        graph.add_edge("source", person, capacity=1, weight=0)
        graph.add_edge(person, "sink", capacity=1, weight=waitlisted)
        for session_id, rank in fits(candidate.request, offers):
            group = _municipality_node(graph, offers, session_id, candidate.request.municipality)
            graph.add_edge(person, group, capacity=1, weight=rank_cost(rank) * tie + arrival)
    flow = nx.min_cost_flow(graph)
    return dict(_seats(flow, candidates, offers))


def _municipality_node(
    graph: nx.DiGraph, offers: Sequence[Offer], session_id: str, municipality: str
) -> tuple[str, str, str]:
    node = ("group", session_id, municipality)
    if node not in graph:
        offer = next(o for o in offers if o.session_id == session_id)
        room = offer.capacity
        if offer.municipality_cap is not None:
            room = max(0, offer.municipality_cap - offer.municipalities.count(municipality))
        graph.add_edge(node, ("session", session_id), capacity=room, weight=0)
    return node


def _seats(
    flow: dict[object, dict[object, int]], candidates: Sequence[Candidate], offers: Sequence[Offer]
) -> Iterator[tuple[UUID, Seat]]:
    for arrival, candidate in enumerate(candidates):
        for session_id, rank in fits(candidate.request, offers):
            group = ("group", session_id, candidate.request.municipality)
            if flow[("person", arrival)].get(group, 0) == 1:
                yield candidate.registration_id, (session_id, rank)
