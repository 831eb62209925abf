"""A programme's book is read from the database once, not again by a transaction that raced another."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scheduler import handlers
from services.scheduler.programme_tx import ProgrammeTx
from services.scheduler.sessions import seed_catalogue
from services.scheduler.store import SchedulerStore
from tests.service.scheduler.conftest import registration
from tests.service.scheduler.test_placement_durability import RecordingBroker, make_deps

pytestmark = pytest.mark.service


async def test_a_tick_racing_a_batch_takes_the_cached_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SchedulerStore(f"sqlite+aiosqlite:///{tmp_path / 'scheduler.sqlite3'}")
    await store.create_tables()
    deps = make_deps(store, RecordingBroker())
    await seed_catalogue(deps)
    await handlers.handle_batch([registration(n=0)], deps)  # the book is cached from here on
    reads: list[str] = []
    read_book, close = ProgrammeTx._load_book, AsyncConnection.close

    async def counted(tx: ProgrammeTx, *args: Any) -> Any:
        reads.append(tx.programme_id)
        return await read_book(tx, *args)

    async def slow_close(conn: AsyncConnection) -> None:
        await asyncio.sleep(0.15)  # after the commit (the database lock is free), before the cache
        await close(conn)

    monkeypatch.setattr(ProgrammeTx, "_load_book", counted)
    monkeypatch.setattr(AsyncConnection, "close", slow_close)
    batch = [registration(n=n, organisation=f"Opština {n}") for n in range(1, 6)]
    await asyncio.gather(handlers.handle_batch(batch, deps), handlers.tick(deps))
    await handlers.handle_batch([registration(n=9, organisation="Grad Bor")], deps)
    monkeypatch.undo()
    await store.dispose()
    assert reads == []
