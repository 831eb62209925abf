"""The bulk loader writes exactly what the intake writes, in chunks, without losing or doubling a row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from benchmarks.reminders.data import Profile, future_seats, seat, snapshot
from benchmarks.reminders.notifier import intake_of, settings_for
from services.notifier import handlers
from services.notifier.bulk import load_seats
from services.notifier.reminders import QuietHours
from services.notifier.store import SqlNotificationStore
from services.notifier.tables import CalendarEntryRow, NotificationRow
from shared.clock import ManualClock
from shared.contracts import SeatAssignedV1, SeatUpdatedV1

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ZONE = "Europe/Belgrade"


@pytest.fixture
async def stores(
    tmp_path: Path,
) -> AsyncIterator[tuple[SqlNotificationStore, SqlNotificationStore]]:
    """Two fresh SQLite stores: one for the real intake, one for the bulk loader."""
    made = [SqlNotificationStore(f"sqlite+aiosqlite:///{tmp_path / f'{n}.sqlite3'}") for n in "ab"]
    for store in made:
        await store.create_tables()
    yield made[0], made[1]
    for store in made:
        await store.dispose()


def intake(store: SqlNotificationStore, tmp_path: Path) -> handlers.Intake:
    """The benchmark's intake over `store`, at NOW with the default quiet hours."""
    real = intake_of(store, settings_for(tmp_path, QuietHours()))
    return handlers.Intake(
        store, ManualClock(NOW), real.mail_domain, real.offsets, real.quiet, real.wake
    )


def varied_seats() -> list[SeatAssignedV1 | SeatUpdatedV1]:
    """Seats with every reminder case: SMS consent, no email consent, a past 7-day slot, updates."""
    seats: list[SeatAssignedV1 | SeatUpdatedV1] = []
    for index in range(12):
        starts = NOW + timedelta(days=3 + index * 2, hours=index % 5)
        held = seat(snapshot(f"s-{index}", starts), f"p-{index}@bench.example", NOW)
        attendee = held.attendee.model_copy(
            update={
                "phone": "+381641234567",
                "consent_sms": index % 3 == 0,
                "consent_email": index % 4 != 1,
            }
        )
        held = held.model_copy(update={"attendee": attendee})
        if index % 5 == 2:
            data = held.model_dump() | {"revision": 2, "changes": ("time",)}
            data.pop("event_type"), data.pop("choice_rank")
            seats.append(SeatUpdatedV1.model_validate(data))
        else:
            seats.append(held)
    return seats


async def rows_of(
    store: SqlNotificationStore, kind: str = "reminder"
) -> dict[str, tuple[Any, ...]]:
    """Every outbox row of `kind`, by key, with every column."""
    async with store.engine.connect() as connection:
        result = await connection.execute(
            select(NotificationRow).where(NotificationRow.kind == kind)
        )
        return {row.notification_key: tuple(row) for row in result}


async def entries_of(store: SqlNotificationStore) -> set[tuple[Any, ...]]:
    """Every calendar entry row."""
    async with store.engine.connect() as connection:
        return {tuple(row) for row in await connection.execute(select(CalendarEntryRow))}


async def test_bulk_load_writes_exactly_the_rows_the_intake_writes(
    stores: tuple[SqlNotificationStore, SqlNotificationStore], tmp_path: Path
) -> None:
    by_intake, by_bulk = stores
    seats = varied_seats()
    for event in seats:
        await handlers.seat_held(event, intake(by_intake, tmp_path))
    loaded = await load_seats(intake(by_bulk, tmp_path), seats, chunk=5)

    expected = await rows_of(by_intake)
    assert {row[-1] for row in expected.values()} != set()  # payloads present
    assert {r[3] for r in expected.values()} == {"email", "sms"}  # both channels covered
    assert await rows_of(by_bulk) == expected
    assert await entries_of(by_bulk) == await entries_of(by_intake)
    assert await rows_of(by_bulk, "invite") == {}  # invites went out when the seats were taken
    assert (loaded.seats, loaded.planned, loaded.inserted) == (
        len(seats),
        len(expected),
        len(expected),
    )


async def test_loading_in_chunks_loses_and_doubles_nothing_and_a_second_load_adds_nothing(
    stores: tuple[SqlNotificationStore, SqlNotificationStore], tmp_path: Path
) -> None:
    store = stores[0]
    profile = Profile(pending=2000, rate=1, seconds=0, bursts=0)
    seats = list(future_seats(profile, NOW))
    loaded = await load_seats(intake(store, tmp_path), seats, chunk=137)
    again = await load_seats(intake(store, tmp_path), seats, chunk=999)

    rows = await rows_of(store)
    slots = sorted(key.split(":")[2] for key in rows)
    assert len(seats) == len({s.registration_id for s in seats}) == 1000
    assert (loaded.seats, loaded.inserted, again.inserted) == (1000, 2000, 0)
    assert len(rows) == 2000
    assert all(row[6] == "pending" for row in rows.values())
    assert slots == ["reminder.email-10080m"] * 1000 + ["reminder.email-1440m"] * 1000
    assert len(await entries_of(store)) == 1000
