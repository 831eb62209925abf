"""aiosqlite with each call run on the event loop's own thread, and lock waits done asynchronously.

aiosqlite hands every call (cursor, execute, fetch, close, commit) to a thread of its own and
wakes the event loop with the result: four such hops a statement. On this project's hot paths
(a local SQLite file in WAL mode, `synchronous=NORMAL`, indexed statements of tens of
microseconds) the hops cost more than the statements, and the GIL handed back and forth between
the two threads held the notifier's deliveries back: `python -m benchmarks.notifier_cpu` sent
154 to 232 invites a second through the thread, 284 to 363 inline.

So calls run inline. The one thing that could block the loop for long is waiting for another
connection's write lock: SQLite's own busy handler is switched off (`busy_timeout=0`) and a busy
call is retried here after an `asyncio.sleep`, with SQLite's own back-off schedule, until the
same 30 s SQLite waited before. A busy statement wrote nothing (SQLite takes the write lock
before the first row), so running it again is safe; SQLITE_BUSY_SNAPSHOT, which only a new
transaction can cure, is raised at once, as SQLite's handler did. aiosqlite's thread still opens
and closes the connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import aiosqlite

LOCK_WAIT_S = 30.0  # what `busy_timeout` allowed before
BACK_OFF_S = (0.001, 0.002, 0.005, 0.010, 0.015, 0.020, 0.025, 0.025, 0.025, 0.050, 0.050, 0.100)
RETRYABLE = {sqlite3.SQLITE_BUSY, 261}  # SQLITE_BUSY and SQLITE_BUSY_RECOVERY, not _SNAPSHOT (517)


def lock_busy(error: BaseException) -> bool:
    """Whether `error` is a wait for another connection's lock that a retry can outlast."""
    return (
        isinstance(error, sqlite3.OperationalError)
        and getattr(error, "sqlite_errorcode", None) in RETRYABLE
    )


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread (see the module doc)."""

    lock_wait_s: float = LOCK_WAIT_S
    lock_waits: int = 0  # back-off sleeps so far, for tests and diagnostics

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn` now; while another connection holds the lock, sleep and run it again."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline, attempt = None, 0
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if not lock_busy(error):
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.lock_wait_s
                if now >= deadline:
                    raise
            self.lock_waits += 1
            await asyncio.sleep(BACK_OFF_S[min(attempt, len(BACK_OFF_S) - 1)])
            attempt += 1


def connect_inline(database: str, **kwargs: Any) -> InlineConnection:
    """`aiosqlite.connect` for SQLAlchemy's `async_creator_fn`, returning an InlineConnection."""
    kwargs["check_same_thread"] = False  # opened on aiosqlite's thread, used on the loop's
    kwargs.pop("timeout", None)

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(database, timeout=0, **kwargs)
        return connection

    connection = InlineConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    return connection
