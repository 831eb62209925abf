"""SQLite calls run on the event loop's thread; a lock held elsewhere is waited for without blocking it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.db import create_engine
from shared.sqlite_inline import InlineConnection, connect_inline

pytestmark = pytest.mark.unit


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[InlineConnection, InlineConnection]]:
    """Two connections to one WAL database holding table t."""
    path = str(tmp_path / "inline.sqlite3")
    first, second = await connect_inline(path), await connect_inline(path)
    await first.execute("PRAGMA journal_mode=WAL")
    await first.execute("CREATE TABLE t (x INTEGER)")
    await first.commit()
    yield first, second
    await first.close()
    await second.close()


async def rows(connection: InlineConnection) -> list[tuple[int, ...]]:
    cursor = await connection.execute("SELECT x FROM t ORDER BY x")
    return list(await cursor.fetchall())


async def insert(connection: InlineConnection, value: int) -> None:
    await connection.execute("INSERT INTO t VALUES (?)", (value,))
    await connection.commit()


async def test_calls_run_on_the_event_loop_thread(
    pair: tuple[InlineConnection, InlineConnection],
) -> None:
    first, _ = pair
    seen: list[int] = []
    await first.create_function("where_am_i", 0, lambda: seen.append(threading.get_ident()) or 1)
    await first.execute("SELECT where_am_i()")
    assert seen == [threading.get_ident()]


async def test_a_write_waits_for_another_connections_lock_while_the_loop_runs(
    pair: tuple[InlineConnection, InlineConnection],
) -> None:
    holder, waiter = pair
    await holder.execute("INSERT INTO t VALUES (1)")  # holds the write lock, uncommitted
    write = asyncio.create_task(insert(waiter, 2))
    for _ in range(10_000):  # these turns of the loop come only if the waiting write yields
        if waiter.lock_waits:
            break
        await asyncio.sleep(0)
    assert waiter.lock_waits > 0
    assert not write.done()
    await holder.commit()
    await write
    assert await rows(waiter) == [(1,), (2,)]


async def test_a_lock_held_past_the_wait_limit_raises_and_writes_nothing(
    pair: tuple[InlineConnection, InlineConnection],
) -> None:
    holder, waiter = pair
    waiter.lock_wait_s = 0.0
    await holder.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await insert(waiter, 2)
    await waiter.rollback()
    await holder.commit()
    assert await rows(waiter) == [(1,)]


async def test_a_stale_snapshot_is_raised_at_once_not_waited_for(
    pair: tuple[InlineConnection, InlineConnection],
) -> None:
    writer, reader = pair
    await reader.execute("BEGIN")
    await rows(reader)  # the read snapshot
    await insert(writer, 1)  # committed after it
    with pytest.raises(sqlite3.OperationalError) as raised:
        await reader.execute("INSERT INTO t VALUES (2)")
    assert raised.value.sqlite_errorcode == 517  # BUSY_SNAPSHOT: only a new transaction cures it
    assert reader.lock_waits == 0


async def test_the_engine_opens_inline_connections_without_sqlites_own_lock_wait(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'engine.sqlite3'}")
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
            cursor = await raw.driver_connection.execute("PRAGMA busy_timeout")
            assert await cursor.fetchone() == (0,)
    finally:
        await engine.dispose()
