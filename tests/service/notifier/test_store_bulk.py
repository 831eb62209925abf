"""The store's bulk intake API on SQLite (the same tests run on PostgreSQL in integration/)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.notifier import intake_work
from services.notifier.notices import Notice
from services.notifier.ports import CalendarEntry
from services.notifier.store import SqlNotificationStore
from tests.unit.notifier.conftest import NOW, notice_of, seat_assigned

pytestmark = pytest.mark.service


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Chunks of 7 rows, so a few dozen items cross several statement boundaries."""
    monkeypatch.setattr(intake_work, "CHUNK", 7)
    return 7


def notices(count: int) -> list[Notice]:
    """`count` invites to distinct registrants."""
    return [notice_of(seat_assigned(registration_id=str(uuid4()))) for _ in range(count)]


def queued(batch: list[Notice], due: datetime = NOW) -> list[tuple[Notice, str, datetime]]:
    """(notice, message_id, due) items, each due a second after the previous one."""
    return [(n, f"<m{i}@x.example>", due + timedelta(seconds=i)) for i, n in enumerate(batch)]


def entry(recipient_id: UUID, revision: int, *, active: bool = True) -> CalendarEntry:
    """A calendar entry of session ppz-bg-06."""
    recipient = notice_of(seat_assigned()).recipient
    return CalendarEntry(recipient_id, "ppz-bg-06", revision, active, recipient)


async def test_enqueue_many_inserts_every_new_key_once_across_chunks(
    store: SqlNotificationStore, small_chunks: int
) -> None:
    batch = notices(30)
    items = queued(batch)
    assert await store.enqueue_many(items, now=NOW) == 30
    for index, (notice, mail_id, due) in enumerate(items):
        stored = await store.get(notice.key)
        assert stored is not None, index
        assert stored.notice == notice
        assert (stored.status, stored.message_id, stored.attempts) == ("pending", mail_id, 0)
        assert stored.next_attempt_at == due


async def test_enqueue_many_skips_keys_already_present_and_repeated_in_the_input(
    store: SqlNotificationStore, small_chunks: int
) -> None:
    first, later = notices(10), notices(15)
    assert await store.enqueue_many(queued(first), now=NOW) == 10
    again = queued(first[3:] + later + later[:4], due=NOW + timedelta(days=1))
    assert await store.enqueue_many(again, now=NOW) == 15
    kept = await store.get(first[5].key)
    assert kept is not None
    assert kept.next_attempt_at == NOW + timedelta(seconds=5)  # untouched
    assert await store.enqueue_many([], now=NOW) == 0
    claimed = await store.claim_due(NOW + timedelta(days=2), limit=100, lease=timedelta(hours=1))
    assert sorted(d.notice.key for d in claimed) == sorted(n.key for n in first + later)


async def test_enqueue_many_commits_all_chunks_or_none(
    store: SqlNotificationStore, small_chunks: int
) -> None:
    items = queued(notices(20))
    broken = items[-1][0], items[-1][1], items[-1][2].replace(tzinfo=None)  # refused at bind
    with pytest.raises(Exception, match="naive datetime"):
        await store.enqueue_many([*items[:-1], broken], now=NOW)
    assert [await store.get(notice.key) for notice, _, _ in items] == [None] * 20
    assert await store.enqueue_many(items, now=NOW) == 20


async def test_enqueue_many_handles_more_rows_than_one_statement_takes(
    store: SqlNotificationStore,
) -> None:
    template = notices(1)[0]
    batch = [template.model_copy(update={"recipient_id": uuid4()}) for _ in range(6_000)]
    assert await store.enqueue_many(queued(batch), now=NOW) == 6_000
    assert await store.enqueue_many(queued(batch[-5_001:]), now=NOW) == 0
    assert await store.get(batch[-1].key) is not None


async def test_record_entries_inserts_new_raises_older_and_keeps_newer(
    store: SqlNotificationStore, small_chunks: int
) -> None:
    ids = [uuid4() for _ in range(20)]
    assert await store.record_entries([entry(i, 2) for i in ids]) == 20
    update = [entry(i, 3, active=False) for i in ids[:8]] + [entry(i, 1) for i in ids[8:12]]
    update += [entry(i, 2) for i in ids[12:14]] + [entry(uuid4(), 1)]
    assert await store.record_entries(update) == 8 + 2 + 1  # the four stale ones are refused
    for i in ids[:8]:
        assert await store.entry(i, "ppz-bg-06") == entry(i, 3, active=False)
    for i in ids[8:]:
        assert await store.entry(i, "ppz-bg-06") == entry(i, 2)


async def test_record_entries_keeps_the_newest_of_repeated_keys_in_one_call(
    store: SqlNotificationStore,
) -> None:
    one = uuid4()
    batch = [entry(one, 4), entry(one, 6, active=False), entry(one, 5)]
    assert await store.record_entries(batch) == 1
    assert await store.entry(one, "ppz-bg-06") == entry(one, 6, active=False)
    assert await store.record_entry(entry(one, 5)) is False
    assert await store.record_entry(entry(one, 6)) is True


async def test_intake_writes_roll_back_together(store: SqlNotificationStore) -> None:
    notice, one = notices(1)[0], uuid4()

    async def write_then_die() -> None:
        async with store.intake() as work:
            assert await work.record_entry(entry(one, 1))
            assert await work.enqueue_many(queued([notice]), now=NOW) == 1
            raise RuntimeError("the process dies mid-event")

    with pytest.raises(RuntimeError):
        await write_then_die()
    assert await store.entry(one, "ppz-bg-06") is None
    assert await store.get(notice.key) is None


async def test_close_pending_supersedes_only_older_pending_notices_of_the_kinds(
    store: SqlNotificationStore,
) -> None:
    person, other = uuid4(), uuid4()
    rows = [
        notice_of(seat_assigned(registration_id=str(person), revision=1)),
        notice_of(seat_assigned(registration_id=str(person), revision=1), "reminder", slot="d1"),
        notice_of(seat_assigned(registration_id=str(person), revision=2), "update"),
        notice_of(seat_assigned(registration_id=str(other), revision=1)),
        notice_of(seat_assigned(registration_id=str(person), session={"session_id": "x"})),
    ]
    await store.enqueue_many(queued(rows), now=NOW)
    assert await store.close_pending(person, "ppz-bg-06", ("invite", "reminder"), 1, NOW) == 0
    closed = await store.close_pending(person, "ppz-bg-06", ("reminder", "update"), 3, NOW)
    assert closed == 2  # the reminder (rev 1) and the update (rev 2); not the invite's kind
    states = {n.key: (await store.get(n.key)).status for n in rows}  # type: ignore[union-attr]
    assert states == {
        rows[0].key: "pending",
        rows[1].key: "superseded",
        rows[2].key: "superseded",
        rows[3].key: "pending",
        rows[4].key: "pending",
    }
    again = await store.close_pending(person, "ppz-bg-06", ("reminder", "update"), 3, NOW)
    assert again == 0  # only pending rows are closed
