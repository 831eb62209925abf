"""Tables and indexes are created race-free when several processes start on one store."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, inspect
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from shared.db import create_engine, create_missing

pytestmark = pytest.mark.unit

METADATA = MetaData()
OUTBOX = Table(
    "outbox",
    METADATA,
    Column("key", String, primary_key=True),
    Column("due", Integer),
    Index("ix_outbox_due", "due"),
)


def ddl() -> list[str]:
    """What another process would run to create the same schema."""
    dialect = sqlite.dialect()
    return [str(CreateTable(OUTBOX).compile(dialect=dialect))] + [
        str(CreateIndex(index).compile(dialect=dialect)) for index in OUTBOX.indexes
    ]


async def names(url: str) -> tuple[list[str], list[str]]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        indexes = await connection.run_sync(lambda c: inspect(c).get_indexes("outbox"))
    await engine.dispose()
    return tables, [str(index["name"]) for index in indexes]


async def test_creates_what_is_missing_and_runs_again_harmlessly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
    engine = create_engine(url)
    await create_missing(engine, METADATA)
    await create_missing(engine, METADATA)
    await engine.dispose()
    assert await names(url) == (["outbox"], ["ix_outbox_due"])


async def test_a_schema_another_process_is_creating_meanwhile_is_left_to_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")
    for statement in ddl():
        other.execute(statement)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    creating = asyncio.create_task(create_missing(engine, METADATA))
    await asyncio.sleep(0.05)
    assert not creating.done()  # it waits for the other process's write lock
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(creating, timeout=10)  # create_all would fail: "already exists"
    await engine.dispose()
    assert await names(f"sqlite+aiosqlite:///{path}") == (["outbox"], ["ix_outbox_due"])
