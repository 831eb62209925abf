"""Deferred writes, sent per table in runs of one statement, store what one-by-one writes store."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from services.scheduler import announce
from services.scheduler.domain import Change, Placement, Request
from services.scheduler.programme_tx import ProgrammeTx
from services.scheduler.store import SchedulerStore
from services.scheduler.tables import outbox, registrations
from shared import topics
from shared.contracts import Registrant
from tests.service.scheduler.conftest import NOW

pytestmark = pytest.mark.service

REGISTRANT = Registrant(full_name="Petra Testić", email="petra@example.org", organisation="Bor")
STATUSES = ("assigned", "offered", "waitlisted", "cancelled")
Write = tuple[str, int, int]
"""(what, registration number, a status or revision number)."""
WRITES = st.lists(
    st.tuples(
        st.sampled_from(["add", "save", "enqueue"]),
        st.integers(min_value=1, max_value=6),
        st.integers(min_value=0, max_value=3),
    ),
    max_size=30,
)


def placement(n: int) -> Placement:
    return Placement(UUID(int=n), n, Request((), frozenset(), "sr-Latn", "bor"))


async def apply(tx: ProgrammeTx, writes: list[Write], *, one_by_one: bool) -> None:
    """The writes a batch of use cases makes, in order; `one_by_one` flushes after each."""
    revisions: dict[int, int] = {}
    for what, n, detail in writes:
        revision = revisions[n] = revisions.get(n, 0) + 1
        stored = replace(placement(n), status=STATUSES[detail], revision=revision)
        if what == "add":
            if revision == 1:  # a registration is added once
                await tx.add_placement(stored, REGISTRANT, f"corr-{n}", NOW)
        elif what == "save":  # of a registration not added yet, it changes nothing
            await tx.save_placement(stored, NOW)
        else:
            change = Change(stored.registration_id, revision, "waitlisted", None, "r", position=1)
            event = announce.placement_event(
                change, programme_id="p", session=None, attendee=None, correlation_id="c", now=NOW
            )
            await tx.enqueue(event, topic=topics.PLACEMENTS, key=str(n))
        if one_by_one:
            await tx.flush()


async def stored_after(writes: list[Write], *, one_by_one: bool) -> tuple[list[Any], list[Any]]:
    """Every placement row and the outbox in sequence order, after the writes committed."""
    with tempfile.TemporaryDirectory() as folder:
        store = SchedulerStore(f"sqlite+aiosqlite:///{Path(folder) / 's.sqlite3'}")
        try:
            await store.create_tables()
            async with store.transaction("p") as tx:
                await apply(tx, writes, one_by_one=one_by_one)
            async with store.connection() as conn:
                placed = select(registrations).order_by(registrations.c.registration_id)
                queued = select(outbox.c.seq, outbox.c.event_id, outbox.c.key).order_by(
                    outbox.c.seq
                )
                return (
                    [tuple(row) for row in (await conn.execute(placed)).all()],
                    [tuple(row) for row in (await conn.execute(queued)).all()],
                )
        finally:
            await store.dispose()


@settings(max_examples=60, deadline=None)
@given(WRITES)
@example([("save", 1, 0), ("add", 2, 0), ("save", 2, 1)])  # an UPDATE must not pass its INSERT
def test_deferred_writes_store_what_one_by_one_writes_store(writes: list[Write]) -> None:
    deferred = asyncio.run(stored_after(writes, one_by_one=False))
    assert deferred == asyncio.run(stored_after(writes, one_by_one=True))


def test_a_batch_of_placements_goes_as_one_statement_per_table() -> None:
    writes = [(what, n, 0) for n in range(1, 6) for what in ("add", "enqueue")]
    sent: list[str] = []

    async def run() -> None:
        with tempfile.TemporaryDirectory() as folder:
            store = SchedulerStore(f"sqlite+aiosqlite:///{Path(folder) / 's.sqlite3'}")
            await store.create_tables()
            event.listen(
                store.engine.sync_engine,
                "before_cursor_execute",
                lambda _c, _cur, statement, *_: sent.append(statement.split(" (")[0]),
            )
            async with store.transaction("p") as tx:
                await apply(tx, writes, one_by_one=False)
            await store.dispose()

    asyncio.run(run())
    assert sent.count("INSERT INTO seat_placements") == 1
    assert sent.count("INSERT INTO outbox") == 1
