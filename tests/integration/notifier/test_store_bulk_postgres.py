"""The store's bulk intake tests again, on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.notifier.store import SqlNotificationStore
from tests.service.notifier.test_store_bulk import (  # noqa: F401  (collected here again)
    small_chunks,
    test_enqueue_many_commits_all_chunks_or_none,
    test_enqueue_many_handles_more_rows_than_one_statement_takes,
    test_enqueue_many_inserts_every_new_key_once_across_chunks,
    test_enqueue_many_skips_keys_already_present_and_repeated_in_the_input,
    test_intake_writes_roll_back_together,
    test_record_entries_inserts_new_raises_older_and_keeps_newer,
    test_record_entries_keeps_the_newest_of_repeated_keys_in_one_call,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[SqlNotificationStore]:
    """A fresh PostgreSQL store."""
    store = SqlNotificationStore(postgres_url)
    await store.create_tables()
    yield store
    await store.dispose()
