"""Translate between the outside world's models and the rules' views of them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from services.scheduler.domain import Request, Slot, municipality_key
from shared.catalogue import Session
from shared.contracts import RegistrationSubmittedV1

T = TypeVar("T")


def slot_of(session: Session, *, cancelled: bool = False) -> Slot:
    """A catalogue session as the rules see it; registration closes at the deadline or the start."""
    deadline = session.deadline
    closes_at = session.starts_at if deadline is None else min(deadline, session.starts_at)
    return Slot(
        session_id=session.id,
        phase=session.phase,
        mode=session.mode,
        language=session.language,
        dates=session.local_dates,
        starts_at=session.starts_at,
        closes_at=closes_at,
        capacity=session.capacity,
        municipality_cap=session.municipality_cap,
        cancelled=cancelled,
    )


def request_of(event: RegistrationSubmittedV1) -> Request:
    """What the registration asks of the rules."""
    return Request(
        preferences=event.preferences,
        unavailable_dates=frozen(event.unavailable_dates),
        language=event.registrant.language,
        municipality=municipality_key(event.registrant.organisation),
    )


NOTHING: frozenset[Any] = frozenset()


def frozen(items: Iterable[T]) -> frozenset[T]:
    """`frozenset(items)`, sharing one empty set (each new one costs 216 bytes, kept per placement)."""
    return frozenset(items) or NOTHING
