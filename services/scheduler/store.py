"""The scheduler's database: one serialised transaction per programme change, outbox included.

Serialisation:
- SQLite: every transaction starts with `BEGIN IMMEDIATE`, which takes the database's write lock
  up front; a second writer waits (busy timeout) until the first commits.
- PostgreSQL: every transaction first takes `pg_advisory_xact_lock` on the programme id, released
  at commit or rollback. A decision reads the seats of all sessions of a programme, so one lock per
  programme is the right grain; it matters during rebalances and with several replicas.
- In one process, a programme's transactions also take turns on an asyncio lock, so the next one
  starts only after the last one put the programme's book back in the cache (`book_cache.py`).
The events announcing a change are written to the outbox in the same transaction (`outbox.py`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.scheduler.book_cache import BookCache
from services.scheduler.programme_tx import ProgrammeTx
from services.scheduler.tables import metadata
from shared.db import create_engine


class SchedulerStore:
    """Where sessions, placements and the outbox are kept."""

    def __init__(self, url: str, programme_titles: Mapping[str, str] | None = None) -> None:
        self.engine: AsyncEngine = create_engine(url)
        self.programme_titles: Mapping[str, str] = programme_titles or {}
        """Each programme's title, for the events that name it (waitlist notices)."""
        self.dialect = self.engine.dialect.name
        self.books = BookCache()
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        """A lock per programme in use (gone with its last user)."""
        if self.dialect == "sqlite":
            _begin_immediate(self.engine)

    async def create_tables(self) -> None:
        """Create the tables if they do not exist yet."""
        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":  # two replicas starting at once must not race
                await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('scheduler:ddl'))"))
            await conn.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self, programme_id: str) -> AsyncIterator[ProgrammeTx]:
        """A serialised unit of work on one programme; commits on success, rolls back on error."""
        async with self._turn(programme_id):
            async with self.engine.begin() as conn:
                await self._lock(conn, f"scheduler:{programme_id}")
                title = self.programme_titles.get(programme_id)
                tx = ProgrammeTx(conn, programme_id, self.books, title=title)
                yield tx
                await tx.flush()  # the deferred writes, before the commit
            tx.keep_book()  # only reached once the commit succeeded

    @asynccontextmanager
    async def _turn(self, programme_id: str) -> AsyncIterator[None]:
        """Let this process's transactions on a programme run one after the other."""
        # the turn ends after the book is back in the cache: a transaction that only waited for
        # the database lock (the tick's, during a batch) found it checked out and read it again
        turn = self._turns.get(programme_id)
        if turn is None:
            turn = self._turns[programme_id] = asyncio.Lock()
        async with turn:
            yield

    @asynccontextmanager
    async def relay_lease(self) -> AsyncIterator[bool]:
        """True while this process is the one outbox relay (PostgreSQL: pg_try_advisory_lock)."""
        if self.dialect != "postgresql":
            yield True  # one process per SQLite file; the relay's own lock covers the rest
            return
        async with self.engine.begin() as conn:
            query = text("SELECT pg_try_advisory_xact_lock(hashtext('scheduler:outbox-relay'))")
            yield bool((await conn.execute(query)).scalar_one())

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A short transaction without the programme lock (outbox reads and marks)."""
        async with self.engine.begin() as conn:
            yield conn

    async def _lock(self, conn: AsyncConnection, key: str) -> None:
        if self.dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def _begin_immediate(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the driver, begin SQLite transactions, taking the write lock at BEGIN."""

    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_begin(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
