"""The catalogue view applies SessionPublishedV1 in start order, converting each session's days once."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import shared.catalogue
from services.registration.catalogue_view import CatalogueView
from shared.catalogue import Catalogue, Session, parse_catalogue
from shared.contracts import SessionPublishedV1, SessionSnapshot, envelope

pytestmark = pytest.mark.unit

FIRST_DAY = date(2027, 3, 1)


def catalogue(sessions: int, *, seed: int) -> Catalogue:
    """One programme whose sessions share start times, in shuffled (not start) order."""
    days = [FIRST_DAY + timedelta(days=index // 3) for index in range(sessions)]
    random.Random(seed).shuffle(days)
    entries = "".join(
        f"""
      - id: s-{index:03d}
        phase: training
        title: Session {index}
        mode: online
        online_url: https://meet.example.org/s-{index:03d}
        timezone: Europe/Belgrade
        dates: ['{day.isoformat()}']
        start: '09:30'
        end: '12:00'
        capacity: 20
        language: en
"""
        for index, day in enumerate(days)
    )
    return parse_catalogue(
        f"""
programmes:
  - id: demo
    title: Demo
    mode: first_come
    phases: [{{id: training, title: Training}}]
    sessions:{entries}"""
    )


def published(snapshot: SessionSnapshot, revision: int) -> SessionPublishedV1:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    return SessionPublishedV1(
        **envelope(producer="scheduler", correlation_id="c", now=now),
        session=snapshot,
        capacity=20,
        revision=revision,
    )


def moved(session: Session, days: int, new_id: str | None = None) -> SessionSnapshot:
    """The session's snapshot, `days` later, optionally as a new session."""
    snapshot = session.snapshot()
    shifted = tuple(
        day.model_copy(
            update={
                "starts_at": day.starts_at + timedelta(days=days),
                "ends_at": day.ends_at + timedelta(days=days),
            }
        )
        for day in snapshot.days
    )
    return snapshot.model_copy(update={"days": shifted, "session_id": new_id or session.id})


def test_apply_orders_sessions_as_a_stable_sort_of_the_others_then_the_update() -> None:
    view, rng = CatalogueView(catalogue(60, seed=1)), random.Random(2)
    expected = list(view.programme("demo").sessions)
    revisions: dict[str, int] = {}
    for step in range(300):
        current = rng.choice(expected)
        new_id = f"n-{step:03d}" if rng.random() < 0.1 else None
        snapshot = moved(current, rng.choice([-3, -1, 0, 0, 1, 2, 5]), new_id)
        revisions[snapshot.session_id] = revision = revisions.get(snapshot.session_id, 0) + 1
        assert view.apply(published(snapshot, revision))
        updated = view.programme("demo").session(snapshot.session_id)
        others = [s for s in expected if s.id != updated.id]
        expected = sorted([*others, updated], key=lambda s: s.starts_at)
        assert [s.id for s in view.programme("demo").sessions] == [s.id for s in expected]
    stale = next(s for s in expected if s.id in revisions)
    assert not view.apply(published(moved(stale, 1), revisions[stale.id])), "nothing newer"


def test_apply_converts_each_sessions_days_to_utc_once(monkeypatch: pytest.MonkeyPatch) -> None:
    base = catalogue(100, seed=3)
    events = [published(moved(s, 0), 1) for s in base.programme("demo").sessions]
    conversions = 0
    to_utc = shared.catalogue._to_utc

    def counted(day: date, moment: time, zone: ZoneInfo) -> datetime:
        nonlocal conversions
        conversions += 1
        return to_utc(day, moment, zone)

    monkeypatch.setattr(shared.catalogue, "_to_utc", counted)
    view = CatalogueView(base)
    for event in events:
        assert view.apply(event)
    # Two moments a day: each base session once, each new one when validated and once more for
    # its UTC days; a sort that converts on every comparison key does it 100 times per event.
    assert conversions <= 2 * 100 + 4 * len(events)
