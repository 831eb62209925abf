"""Taking placements in a batch leaves the store exactly as taking them one by one does."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.notifier import handlers
from services.notifier.reminders import QuietHours
from services.notifier.settings import NotifierSettings
from services.notifier.store import SqlNotificationStore
from services.notifier.tables import ENTRIES, OUTBOX
from shared.clock import ManualClock
from shared.contracts import (
    PlacementEvent,
    RegistrationCancelledV1,
    RegistrationWaitlistedV1,
    SeatOfferedV1,
    SeatReleasedV1,
    SeatUpdatedV1,
)
from tests.service.notifier.harness import NOW, placement, without_session

pytestmark = pytest.mark.service
REGISTRATIONS = [UUID(int=n) for n in (1, 2, 3)]
SESSIONS = ["ppz-bg-06", "ppz-bg-07"]
KINDS: list[type[Any]] = list(get_args(get_args(PlacementEvent)[0]))  # every placement event
Feed = Callable[[handlers.Intake], Awaitable[None]]


def event_of(kind: type[Any], registration: UUID, session: str, revision: int) -> PlacementEvent:
    """A placement of `kind` for one of a few registrations and sessions, at `revision`."""
    if kind is RegistrationWaitlistedV1:
        return without_session(kind, registration, revision=revision, joined=session == SESSIONS[0])  # type: ignore[no-any-return]
    if kind is RegistrationCancelledV1:
        return without_session(kind, registration, revision=revision, cancelled_by="staff")  # type: ignore[no-any-return]
    extra: dict[str, Any] = {
        SeatUpdatedV1: {"changes": ["venue"]},
        SeatReleasedV1: {"release_reason": "participant_cancelled"},
        SeatOfferedV1: {"expires_at": NOW + timedelta(days=2)},
    }.get(kind, {})
    top = {"revision": revision, "session": {"session_id": session}, **extra}
    return placement(kind, registration, **top)  # type: ignore[no-any-return]


EVENTS = st.builds(
    event_of,
    st.sampled_from(KINDS),
    st.sampled_from(REGISTRATIONS),
    st.sampled_from(SESSIONS),
    st.integers(1, 3),
)


async def state_after(path: Path, feed: Feed) -> tuple[list[Any], list[Any]]:
    """The outbox and the calendar entries after `feed` ran on a fresh store."""
    store = SqlNotificationStore(f"sqlite+aiosqlite:///{path}")
    await store.create_tables()
    config = NotifierSettings(_env_file=None)
    intake = handlers.Intake(
        store=store,
        clock=ManualClock(NOW),
        mail_domain="trainingops.example",
        offsets=config.offsets_for,
        quiet=QuietHours(config.quiet_start, config.quiet_end),
        wake=lambda: None,
    )
    try:
        await feed(intake)
        async with store.engine.connect() as connection:
            outbox = (await connection.execute(select(OUTBOX).order_by("notification_key"))).all()
            entries = await connection.execute(
                select(ENTRIES).order_by("recipient_id", "session_id")
            )
            return [tuple(row) for row in outbox], [tuple(row) for row in entries.all()]
    finally:
        await store.dispose()


def one_by_one(events: Sequence[PlacementEvent]) -> Feed:
    async def feed(intake: handlers.Intake) -> None:
        for event in events:
            await handlers.on_placement(event, intake)

    return feed


def as_a_batch(events: Sequence[PlacementEvent]) -> Feed:
    async def feed(intake: handlers.Intake) -> None:
        await handlers.on_placements(events, intake)

    return feed


@settings(max_examples=40, deadline=None)
@given(st.lists(EVENTS, max_size=10))
def test_a_batch_leaves_the_store_as_taking_its_events_one_by_one_does(
    events: list[PlacementEvent],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        expected = asyncio.run(state_after(folder / "one.sqlite3", one_by_one(events)))
        batched = asyncio.run(state_after(folder / "batch.sqlite3", as_a_batch(events)))
    assert batched == expected
