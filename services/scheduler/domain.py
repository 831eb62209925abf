"""First-come seat assignment: pure rules, no I/O, no clock (`now` is always a parameter)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

DEFAULT_PHASE = "training"
"""With no preferences, a registrant may go to any in-person session of this phase."""


@dataclass(frozen=True)
class Request:
    """What a registrant asked for: ranked session ids (empty = any), dates they cannot make."""

    preferences: tuple[str, ...]
    unavailable_dates: frozenset[date]
    language: str


@dataclass(frozen=True)
class Offer:
    """A session as the rules see it, with the seats already taken."""

    session_id: str
    phase: str
    mode: str
    language: str
    dates: tuple[date, ...]
    starts_at: datetime
    closes_at: datetime
    capacity: int
    taken: int

    def obstacle(self, request: Request, now: datetime) -> str | None:
        """Why `request` cannot get a seat here right now, or None if it can."""
        if now >= self.closes_at:
            return "registration closed"
        if request.unavailable_dates.intersection(self.dates):
            return "clashes with unavailable dates"
        if self.taken >= self.capacity:
            return "full"
        return None


@dataclass(frozen=True)
class Decision:
    """Where a registrant goes: a session (with the rank of the choice it met) or the waitlist."""

    session_id: str | None
    rank: int | None
    reason: str

    @property
    def waitlisted(self) -> bool:
        """True when no fitting session had room."""
        return self.session_id is None


def assign(request: Request, offers: Sequence[Offer], now: datetime) -> Decision:
    """Pick the best session the registrant can still get, or the waitlist."""
    if not request.preferences:
        return _assign_any(request, offers, now)
    by_id = {offer.session_id: offer for offer in offers}
    skipped: list[tuple[int, str]] = []
    for rank, session_id in enumerate(request.preferences, start=1):
        offer = by_id.get(session_id)
        obstacle = "not offered" if offer is None else offer.obstacle(request, now)
        if obstacle is None:
            return Decision(session_id, rank, _chosen(rank, skipped))
        skipped.append((rank, obstacle))
    return Decision(None, None, _waitlisted(skipped))


def _assign_any(request: Request, offers: Sequence[Offer], now: datetime) -> Decision:
    """No preferences: the earliest fitting in-person session, own language first."""
    eligible = [o for o in offers if o.phase == DEFAULT_PHASE and o.mode == "in_person"]
    eligible.sort(key=lambda o: (o.language != request.language, o.starts_at, o.session_id))
    for offer in eligible:
        if offer.obstacle(request, now) is None:
            return Decision(offer.session_id, None, "no preference: earliest free session")
    return Decision(None, None, "waitlisted: no preference and no fitting session is free")


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _chosen(rank: int, skipped: list[tuple[int, str]]) -> str:
    if not skipped:
        return f"{ordinal(rank)} choice"
    return f"{ordinal(rank)} choice: {_explain(skipped)}"


def _waitlisted(skipped: list[tuple[int, str]]) -> str:
    obstacles = {obstacle for _, obstacle in skipped}
    if len(obstacles) == 1 and len(skipped) > 1:
        return f"waitlisted: all {len(skipped)} preferences {obstacles.pop()}"
    return f"waitlisted: {_explain(skipped)}"


def _explain(skipped: list[tuple[int, str]]) -> str:
    return ", ".join(f"{ordinal(rank)} choice {obstacle}" for rank, obstacle in skipped)
