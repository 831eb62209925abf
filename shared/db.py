"""Database engines: an SQLite file by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Dialect, Executable, MetaData, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.types import TypeDecorator

from shared.sqlite_inline import connect_inline

T = TypeVar("T")
MOST_ROWS_PER_STATEMENT = 256


def statement_slices(
    rows: Sequence[T], largest: int = MOST_ROWS_PER_STATEMENT
) -> Iterator[Sequence[T]]:
    """`rows` in slices whose sizes are powers of two, largest first, none above `largest`.

    An executemany with RETURNING is sent as one multi-row INSERT per slice, and SQLite's driver
    keeps every distinct statement prepared (128 per connection): batches of any size made as many
    distinct statements, and the notifier grew by about 75 MiB over 30,000 placements. Powers of
    two bound the shapes to a handful per statement.
    """
    start, size = 0, 1 << (max(1, largest).bit_length() - 1)
    while start < len(rows):
        while size > len(rows) - start:
            size //= 2
        yield rows[start : start + size]
        start += size


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, foreign keys and calls inline (sqlite_inline)."""
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True, **options)
    engine = create_async_engine(url, connect_args={"async_creator_fn": connect_inline}, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=0")  # lock waits are asynchronous: sqlite_inline
        cursor.close()

    return engine


async def create_missing(engine: AsyncEngine, metadata: MetaData) -> None:
    """Create the tables and indexes that do not exist yet, race-free between processes.

    `create_all` looks before it creates: two processes starting on one store could both find a
    table missing and the second fail creating it. `IF NOT EXISTS` asks the database instead.
    """
    async with engine.begin() as connection:
        for table in metadata.sorted_tables:
            await connection.execute(CreateTable(table, if_not_exists=True))
            for index in sorted(table.indexes, key=lambda index: str(index.name)):
                await connection.execute(CreateIndex(index, if_not_exists=True))


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive times; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """SQLite forgets the zone: the stored value is UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_if_absent(
    dialect_name: str, table: Table, values: dict[str, Any] | None = None
) -> Executable:
    """An INSERT that does nothing when the row exists (SQLite and PostgreSQL): race-free upserts.

    Without `values`, the statement takes its row as execution parameters.
    """
    if dialect_name == "sqlite":
        statement: Any = sqlite.insert(table)
    elif dialect_name == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise NotImplementedError(f"no insert-if-absent for {dialect_name}")
    chosen: Executable = (
        statement.values(**values) if values else statement
    ).on_conflict_do_nothing()
    return chosen
