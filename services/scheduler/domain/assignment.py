"""Seat assignment rules: pure, no I/O, no clock (`now` is always a parameter)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

DEFAULT_PHASE = "training"
"""With no preferences, a registrant may go to any in-person session of this phase."""

LANGUAGE_FAMILIES = {"sr-Latn": "bcs", "sr-Cyrl": "bcs", "bs": "bcs", "en": "en"}
"""Serbian in either script and Bosnian are one spoken language for a training room."""


def speaks(registrant_language: str, session_language: str) -> bool:
    """True when a registrant of `registrant_language` can follow a session in the other."""
    family = LANGUAGE_FAMILIES.get
    return family(registrant_language, registrant_language) == family(
        session_language, session_language
    )


def municipality_key(organisation: str) -> str:
    """The municipality a registrant counts against: case and spacing do not matter."""
    return " ".join(organisation.casefold().split())


@dataclass(frozen=True)
class Request:
    """What a registrant asked for: ranked session ids (empty = any), dates they cannot make."""

    preferences: tuple[str, ...]
    unavailable_dates: frozenset[date]
    language: str
    municipality: str = ""


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


@dataclass(frozen=True, kw_only=True)
class Offer(Slot):
    """A session as the rules see it, with the seats already taken."""

    taken: int
    municipalities: tuple[str, ...] = field(default=(), repr=False)
    """The municipality of every seat holder, one entry per seat (kept only under a cap)."""

    @classmethod
    def of(cls, slot: Slot, *, taken: int, municipalities: tuple[str, ...] = ()) -> Offer:
        """The session `slot` with `taken` seats held, by holders of these municipalities."""
        return cls(**vars(slot), taken=taken, municipalities=municipalities)

    def obstacle(self, request: Request, now: datetime, *, late: bool = False) -> str | None:
        """Why `request` cannot get a seat here right now, or None; `late` ignores the deadline."""
        if now >= (self.starts_at if late else self.closes_at):
            return "registration closed"
        return self.misfit(request) or self.room_for(request)

    def misfit(self, request: Request) -> str | None:
        """Why the session can never suit `request` (dates, language), or None."""
        if request.unavailable_dates.intersection(self.dates):
            return "clashes with unavailable dates"
        if not speaks(request.language, self.language):
            return "in another language"
        return None

    def room_for(self, request: Request) -> str | None:
        """Why no seat is left for `request` (capacity, municipality cap), or None."""
        if self.taken >= self.capacity:
            return "full"
        cap = self.municipality_cap
        if cap is not None and self.municipalities.count(request.municipality) >= cap:
            return "municipality cap reached"
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


class Offers(Protocol):
    """Where the rules look sessions up: by id, or in the order a registrant without preferences takes."""

    def running(self, session_id: str) -> Offer | None:
        """The running session with this id, or None (unknown or cancelled)."""
        ...

    def by_default(self, language: str) -> Iterable[Offer]:
        """The running sessions open without preferences, own language first, then earliest.

        A session with no seat left may be left out: no request fits it.
        """
        ...


@dataclass(frozen=True)
class OfferList:
    """`Offers` over a plain list (sorted on every call; a `Book` keeps the order instead)."""

    offers: Sequence[Offer]

    def running(self, session_id: str) -> Offer | None:
        """The offer with this id, or None."""
        return next((o for o in self.offers if o.session_id == session_id), None)

    def by_default(self, language: str) -> list[Offer]:
        """The offers open without preferences, in the order they are tried."""
        return sorted(filter(open_to_anyone, self.offers), key=default_order(language))


def default_order(language: str) -> Callable[[Slot], tuple[bool, datetime, str]]:
    """How sessions are tried without preferences: own language first, then earliest, then by id."""
    return lambda slot: (slot.language != language, slot.starts_at, slot.session_id)


def open_to_anyone(slot: Slot) -> bool:
    """A session a registrant without preferences may be placed in."""
    return slot.phase == DEFAULT_PHASE and slot.mode == "in_person"


def assign(
    request: Request, offers: Offers | Sequence[Offer], now: datetime, *, late: bool = False
) -> Decision:
    """Pick the best session the registrant can still get, or the waitlist."""
    source: Offers = OfferList(offers) if isinstance(offers, Sequence) else offers
    if not request.preferences:
        return _assign_any(request, source, now, late=late)
    skipped: list[tuple[int, str]] = []
    for rank, session_id in enumerate(request.preferences, start=1):
        offer = source.running(session_id)
        obstacle = "not offered" if offer is None else offer.obstacle(request, now, late=late)
        if obstacle is None:
            return Decision(session_id, rank, _chosen(rank, skipped))
        skipped.append((rank, obstacle))
    return Decision(None, None, _waitlisted(skipped))


def acceptable(request: Request, offer: Offer) -> bool:
    """True when the registrant would take a seat here: a preference, or any default session."""
    if request.preferences:
        return offer.session_id in request.preferences
    return open_to_anyone(offer)


def _assign_any(request: Request, offers: Offers, now: datetime, *, late: bool) -> Decision:
    """No preferences: the earliest fitting in-person session, own language first."""
    for offer in offers.by_default(request.language):
        if offer.obstacle(request, now, late=late) is None:
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
