"""Each programme's book as last committed, reused while no transaction has changed it since.

Loading a book reads every placement of the programme, so without this every decision would cost
time in proportion to the registrations already made. A version row, raised inside the serialised
transaction by every write, tells whether the cached book is still the stored one (another replica's
write raises it too). A book is checked out while a transaction uses it and is put back only after
that transaction committed, so a rolled-back change never survives in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.scheduler.domain import Book


@dataclass(frozen=True)
class _Entry:
    version: int
    book: Book
    sessions: Mapping[str, Any]


class BookCache:
    """Committed books by programme id, each with the version it was committed at."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def take(self, programme_id: str, version: int) -> tuple[Book, Mapping[str, Any]] | None:
        """Check out the cached book and stored sessions if still at `version`; they leave the cache."""
        entry = self._entries.pop(programme_id, None)
        if entry is None or entry.version != version:
            return None
        return entry.book, entry.sessions

    def put(self, programme_id: str, version: int, book: Book, sessions: Mapping[str, Any]) -> None:
        """Keep a committed book with the stored sessions it was built from."""
        self._entries[programme_id] = _Entry(version, book, sessions)
