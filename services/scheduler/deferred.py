"""Writes held back until a read needs them, then sent in as few statements as possible.

The scheduler's tables have no foreign keys or triggers between them, so one table's writes may
go before another's without changing what is stored; within a table the order is kept (an UPDATE
stays after the INSERT of its row, and outbox rows keep their sequence). A batch of registrations
writes a placement and an outbox row per registration, interleaved: kept per table, they go as
two executemany statements instead of one statement per row.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Delete, Insert, Update
from sqlalchemy.ext.asyncio import AsyncConnection

Write = Insert | Update | Delete
Row = dict[str, Any]


class DeferredWrites:
    """Rows to write, kept per table in the order they came."""

    def __init__(self) -> None:
        self._by_table: dict[Any, list[tuple[Write, Row]]] = {}

    def add(self, statement: Write, row: Row) -> None:
        """Hold a write of `row` by `statement` (an executemany-able statement) until `flush`."""
        self._by_table.setdefault(statement.table, []).append((statement, row))

    def take(self) -> Iterator[tuple[Write, list[Row]]]:
        """Hand over the held writes: each table's in order, a run of one statement as one."""
        by_table, self._by_table = self._by_table, {}
        for writes in by_table.values():
            for _, run in itertools.groupby(writes, key=lambda write: id(write[0])):
                rows = list(run)
                yield rows[0][0], [row for _, row in rows]

    async def flush(self, conn: AsyncConnection) -> None:
        """Run the held writes on `conn`."""
        for statement, rows in self.take():
            await conn.execute(statement, rows)
