"""Recording what a delivery attempt did: one transaction for every attempt finishing together.

The time between a provider accepting a message and its `sent` record committing is the only
duplicate window. With deliveries in flight side by side, one commit per attempt would queue
them behind each other; `GroupCommit` instead writes all the records that arrive while the
previous commit runs in the next one (three statements, however many records).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import bindparam, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.intake_work import insert_statement
from services.notifier.ports import Status
from services.notifier.tables import OUTBOX, OUTCOMES
from shared.contracts import NotificationOutcomeV1
from shared.logging import get_logger

log = get_logger("services.notifier.recording")


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

    async def record(self, records: Sequence[Record], forget: Sequence[UUID] = ()) -> None: ...


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


async def forget_outcomes(session: AsyncSession, event_ids: Sequence[UUID]) -> int:
    """Delete published outcome events; return how many there were."""
    ids = [str(event_id) for event_id in event_ids]
    result = await session.execute(delete(OUTCOMES).where(OUTCOMES.c.event_id.in_(ids)))
    return int(result.rowcount)  # type: ignore[attr-defined]


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
    """`finish` and `defer` as the store has them, committed in groups (see the module doc).

    `on_commit` hears every committed group (the dispatcher publishes their outcomes from
    memory); `forget` deletes published outcomes in the next group's transaction.
    """

    def __init__(
        self,
        store: RecordStore,
        on_commit: Callable[[Sequence[Record]], None] | None = None,
    ) -> None:
        self._store = store
        self._on_commit = on_commit
        self._waiting: list[tuple[Record | None, asyncio.Future[None]]] = []  # None: a barrier
        self._forget: list[UUID] = []
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
        self._ensure_writer()
        await committed

    def forget(self, event_ids: Sequence[UUID]) -> None:
        """Delete these (published) outcomes with the next group, or on their own if none comes."""
        if event_ids:
            self._forget.extend(event_ids)
            self._ensure_writer()

    async def settled(self) -> None:
        """Wait until what was queued so far is written (or failed), not for what comes later."""
        if self._writer is None or self._writer.done():
            return  # the writer stops only when nothing is queued
        barrier = asyncio.get_running_loop().create_future()
        self._waiting.append((None, barrier))
        with contextlib.suppress(Exception):
            await barrier

    def _ensure_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_waiting())

    async def _write_while_waiting(self) -> None:
        while self._waiting or self._forget:
            group, self._waiting = self._waiting, []
            forget, self._forget = self._forget, []
            records = [record for record, _ in group if record is not None]
            try:
                if records or forget:  # a group of barriers alone has nothing to write
                    await self._store.record(records, forget)
            except Exception as error:  # nothing of the group committed: each caller hears it
                _settle(group, error)
                _log_forget_failed(forget, error)
            except BaseException:
                _settle(group, None, cancel=True)
                raise
            else:
                if self._on_commit is not None:
                    self._on_commit(records)
                _settle(group, None)


def _log_forget_failed(forget: list[UUID], error: Exception) -> None:
    # Still stored: published again after a restart, with the same ids (consumers dedupe).
    if forget:
        log.warning("outcome.forget_failed", count=len(forget), error=type(error).__name__)


def _settle(
    group: list[tuple[Record | None, asyncio.Future[None]]],
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
