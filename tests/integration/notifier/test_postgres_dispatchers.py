"""Several notifiers side by side on PostgreSQL: each due notification is sent by exactly one."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from services.notifier.store import SqlNotificationStore
from shared.clock import ManualClock
from tests.service.notifier.harness import NOW, FakeMailer
from tests.service.notifier.test_dispatcher import Outcomes, dispatcher_for, queue_invite

pytestmark = pytest.mark.integration


class SlowMailer(FakeMailer):
    """Takes a moment per message, so two dispatchers really overlap."""

    async def send(self, message: object) -> None:  # type: ignore[override]
        """Wait a little, then record."""
        await asyncio.sleep(0.005)
        await super().send(message)  # type: ignore[arg-type]


async def test_two_dispatchers_send_every_due_notification_exactly_once(postgres_url: str) -> None:
    stores = [SqlNotificationStore(postgres_url) for _ in range(2)]
    await stores[0].create_tables()
    keys = [(await queue_invite(stores[0])).key for _ in range(60)]
    clock, outcomes = ManualClock(NOW), Outcomes()
    mailers = [SlowMailer(), SlowMailer()]
    dispatchers = [
        dispatcher_for(store, mailer, clock, outcomes)
        for store, mailer in zip(stores, mailers, strict=True)
    ]
    for dispatcher in dispatchers:
        dispatcher.batch = 5

    # Both claim at the same moment, round after round: the race SKIP LOCKED must win.
    while sum(await asyncio.gather(*(d.run_once() for d in dispatchers))):
        pass
    sent = Counter(m["Message-ID"] for mailer in mailers for m in mailer.sent)
    assert len(sent) == len(keys) == 60
    assert set(sent.values()) == {1}  # nobody sent anything twice
    assert all(mailer.sent for mailer in mailers)  # and both did share the work
    clock.advance(timedelta(days=1))
    assert [await d.run_once() for d in dispatchers] == [0, 0]
    for store in stores:
        await store.dispose()
