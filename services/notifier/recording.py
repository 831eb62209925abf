"""Recording what a delivery attempt did: one transaction for every attempt finishing together.

The time between a provider accepting a message and its `sent` record committing is the only
duplicate window. With deliveries in flight side by side, one commit per attempt would queue
them behind each other; `GroupCommit` instead writes all the records that arrive while the
previous commit runs in the next one (three statements, however many records).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.intake_work import OUTBOX, insert_statement
from services.notifier.ports import Status
from services.notifier.tables import OutcomeRow
from shared.contracts import NotificationOutcomeV1

OUTCOMES: Table = OutcomeRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Record:
    """One attempt's result: a final `status`, or (status None) pending again from `until`."""

    key: str
    status: Status | None
    now: datetime
    until: datetime | None = None
    attempted: bool = True
    detail: str | None = None
    outcome: NotificationOutcomeV1 | None = None


class RecordStore(Protocol):
    """Writes records in one transaction (SqlNotificationStore does)."""

    async def record(self, records: Sequence[Record]) -> None: ...


_FINISH = (
    update(OUTBOX)
    .where(OUTBOX.c.notification_key == bindparam("key_"))
    .values(
        status=bindparam("status_"),
        updated_at=bindparam("now_"),
        detail=bindparam("detail_"),
        attempts=OUTBOX.c.attempts + 1,
    )
)
_DEFER = (
    update(OUTBOX)
    .where(OUTBOX.c.notification_key == bindparam("key_"))
    .values(
        next_attempt_at=bindparam("until_"),
        updated_at=bindparam("now_"),
        attempts=OUTBOX.c.attempts + bindparam("add_"),
    )
)


async def write_records(session: AsyncSession, records: Sequence[Record]) -> None:
    """The rows' new states and their outcome events (insert-if-absent: ids are deterministic)."""
    finished = [_params(r) for r in records if r.status is not None]
    deferred = [_params(r) for r in records if r.status is None]
    outcomes = [_outcome_row(r.outcome, r.now) for r in records if r.outcome is not None]
    if finished:
        await session.execute(_FINISH, finished)
    if deferred:
        await session.execute(_DEFER, deferred)
    if outcomes:
        dialect = session.get_bind().dialect.name
        await session.execute(
            insert_statement(dialect, OUTCOMES).on_conflict_do_nothing(), outcomes
        )


def _params(record: Record) -> dict[str, Any]:
    return {
        "key_": record.key,
        "status_": record.status,
        "now_": record.now,
        "detail_": record.detail[:500] if record.detail else None,
        "until_": record.until,
        "add_": 1 if record.attempted else 0,
    }


def _outcome_row(outcome: NotificationOutcomeV1, now: datetime) -> dict[str, Any]:
    return {
        "event_id": str(outcome.event_id),
        "payload": outcome.model_dump_json(),
        "created_at": now,
    }


class GroupCommit:
    """`finish` and `defer` as the store has them, committed in groups (see the module doc)."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store
        self._waiting: list[tuple[Record, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def finish(
        self,
        key: str,
        status: Status,
        now: datetime,
        *,
        detail: str | None = None,
        outcome: NotificationOutcomeV1 | None = None,
    ) -> None:
        """Record a final state (one more attempt) with its outcome; return once committed."""
        await self.add(Record(key, status, now, detail=detail, outcome=outcome))

    async def defer(
        self,
        key: str,
        until: datetime,
        now: datetime,
        *,
        attempted: bool,
        outcome: NotificationOutcomeV1 | None = None,
    ) -> None:
        """Keep it pending until `until`, with its outcome; return once committed."""
        await self.add(Record(key, None, now, until=until, attempted=attempted, outcome=outcome))

    async def add(self, record: Record) -> None:
        """Queue the record for the next commit and wait for that commit (or its error)."""
        committed = asyncio.get_running_loop().create_future()
        self._waiting.append((record, committed))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_waiting())
        await committed

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                await self._store.record([record for record, _ in group])
            except Exception as error:  # nothing of the group committed: each caller hears it
                _settle(group, error)
            except BaseException:
                _settle(group, None, cancel=True)
                raise
            else:
                _settle(group, None)


def _settle(
    group: list[tuple[Record, asyncio.Future[None]]],
    error: Exception | None,
    *,
    cancel: bool = False,
) -> None:
    for _, committed in group:
        if committed.done():
            continue
        if cancel:
            committed.cancel()
        elif error is not None:
            committed.set_exception(error)
        else:
            committed.set_result(None)
