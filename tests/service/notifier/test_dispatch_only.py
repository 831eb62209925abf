"""A delivery-only notifier (DISPATCH_ONLY) beside the notifier: it delivers, it takes nothing in."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from faststream import TestApp
from faststream.kafka import TestKafkaBroker

from services.notifier.dispatcher import Dispatcher
from services.notifier.main import create_notifier
from services.notifier.ports import Delivery
from services.notifier.store import SqlNotificationStore
from shared import topics
from shared.clock import ManualClock
from shared.kafka import make_broker
from tests.service.notifier.harness import (
    NOW,
    FakeMailer,
    FakeSms,
    running,
    seat_assigned,
    settings_for,
)
from tests.service.notifier.test_dispatcher import (
    Outcomes,
    dispatcher_for,
    invite_notice,
    queue_invite,
)

pytestmark = pytest.mark.service


async def test_it_subscribes_to_nothing_and_delivers_what_the_intake_queued(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, reminder_offsets={"default": {}}) as intake:
        settings = settings_for(tmp_path, dispatch_only=True)
        broker = make_broker(settings.kafka_bootstrap_servers, client_id="notifier")
        mailer = FakeMailer()
        delivering = create_notifier(
            settings, mailer=mailer, sms=FakeSms(), clock=intake.clock, broker=broker,
            provision_topics=False, run_dispatcher=False,
        )  # fmt: skip
        assert broker.subscribers == []
        async with TestKafkaBroker(broker), TestApp(delivering.app):
            await intake.publish(topics.PLACEMENTS, seat_assigned())
            assert await delivering.dispatcher.run_once() == 1
            assert await intake.dispatch() == 0  # claimed once, by one of the two
    assert [message["To"].addresses[0].addr_spec for message in mailer.sent] == [
        "jelena@opstina.example"
    ]
    assert intake.mailer.sent == []


async def test_a_helper_leaves_a_row_to_the_notifier_until_it_is_overdue(
    store: SqlNotificationStore,
) -> None:
    clock, mailer = ManualClock(NOW), FakeMailer(errors=[RuntimeError("the helper dies")])
    helper = dispatcher_for(store, mailer, clock, Outcomes(), overdue=timedelta(seconds=5))
    notice = await queue_invite(store)  # due now
    clock.advance(timedelta(seconds=4))
    assert await helper.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await helper.run_once() == 1  # claimed, then left to its lease by the failure
    row = await store.get(notice.key)
    assert row is not None
    assert row.next_attempt_at == clock.now() + helper.lease
    clock.advance(helper.lease)
    assert await helper.run_once() == 0  # due again, but not yet overdue
    clock.advance(timedelta(seconds=5))
    assert await helper.run_once() == 1
    assert len(mailer.sent) == 1


async def test_a_helper_claims_again_only_after_a_poll_when_its_batch_was_not_full(
    store: SqlNotificationStore,
) -> None:
    def claims_of(dispatcher: Dispatcher) -> list[int]:
        """Claims one row each time (never a full batch) and delivers nothing."""
        wanted: list[int] = []
        delivery = Delivery(invite_notice(), "pending", "<id@x>", 0, NOW)

        async def claim(limit: int) -> list[tuple[Delivery, datetime]]:
            wanted.append(limit)
            return [(delivery, NOW)]

        async def deliver(delivery: Delivery, claimed_at: datetime) -> None:
            await asyncio.sleep(0)

        dispatcher._claim, dispatcher._deliver = claim, deliver  # type: ignore[method-assign]
        return wanted

    async def run_for(dispatcher: Dispatcher, seconds: float) -> None:
        stop = asyncio.Event()
        loop = asyncio.create_task(dispatcher.run(stop, poll_interval=0.1))
        await asyncio.sleep(seconds)
        stop.set()
        dispatcher.wake()
        await loop

    clock = ManualClock(NOW)
    helper = dispatcher_for(store, FakeMailer(), clock, Outcomes(), overdue=timedelta(seconds=5))
    notifiers_own = dispatcher_for(store, FakeMailer(), clock, Outcomes())
    by_helper, by_own = claims_of(helper), claims_of(notifiers_own)
    await run_for(helper, 0.5)
    await run_for(notifiers_own, 0.5)
    assert 1 <= len(by_helper) <= 6  # one claim a poll (0.1 s) at most
    assert len(by_own) > 50  # the notifier's own takes what comes at once
