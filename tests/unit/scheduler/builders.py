"""Builders for the pure rules: sessions a week apart in June 2027, requests, books."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from services.scheduler.domain import Book, Request, Slot, WaitlistPolicy
from services.scheduler.domain.waitlist import register

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def slot(n: int, *, capacity: int = 2, **changes: object) -> Slot:
    """Session s<n>: one day, 1 June 2027 + n weeks, registration open until a week before."""
    day = date(2027, 6, 1) + timedelta(days=7 * n)
    starts_at = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)
    base = Slot(
        session_id=f"s{n}",
        phase="training",
        mode="in_person",
        language="sr-Latn",
        dates=(day,),
        starts_at=starts_at,
        closes_at=starts_at - timedelta(days=7),
        capacity=capacity,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def request(
    *preferences: str,
    unavailable: tuple[date, ...] = (),
    language: str = "sr-Latn",
    municipality: str = "opština primer",
) -> Request:
    return Request(preferences, frozenset(unavailable), language, municipality)


def book(*slots: Slot, policy: WaitlistPolicy | None = None) -> Book:
    return Book.of(slots, (), policy or WaitlistPolicy())


def rid(n: int) -> UUID:
    return UUID(int=n)


def fill(b: Book, *requests: Request, start: int = 1) -> list[UUID]:
    """Register `requests` in order as rid(start), rid(start+1)...; return their ids."""
    ids = []
    for n, req in enumerate(requests, start=start):
        register(b, rid(n), req, NOW)
        ids.append(rid(n))
    return ids
