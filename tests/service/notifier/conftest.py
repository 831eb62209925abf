"""Fixtures of the notifier's service tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.notifier.store import SqlNotificationStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlNotificationStore]:
    """A fresh SQLite store."""
    store = SqlNotificationStore(f"sqlite+aiosqlite:///{tmp_path / 'notifier.sqlite3'}")
    await store.create_tables()
    yield store
    await store.dispose()
