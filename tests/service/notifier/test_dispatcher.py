"""The dispatcher over a real SQLite store: backoff, giving up, restarts, and the duplicate window."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from structlog.testing import capture_logs

from services.notifier.channels import Channels
from services.notifier.dispatcher import MIN_IDLE, Dispatcher
from services.notifier.handlers import recipient_of
from services.notifier.messages import MailIdentity, message_id
from services.notifier.notices import Notice
from services.notifier.personal_links import LinkMaker
from services.notifier.ports import OutgoingMail, PermanentMailError, TransientMailError
from services.notifier.recording import Record
from services.notifier.replay import replay
from services.notifier.settings import NotifierSettings
from services.notifier.store import SqlNotificationStore
from shared.clock import ManualClock
from shared.contracts import NotificationOutcomeV1
from shared.kafka import RetryPolicy
from shared.links import LinkSigner
from tests.service.notifier.harness import NOW, SECRET, FakeMailer, seat_assigned
from tests.unit.notifier.conftest import IDENTITY

pytestmark = pytest.mark.service


class Crash(BaseException):
    """The process dies: nothing after this line runs (not even `except Exception`)."""


@dataclass
class CrashingMailer(FakeMailer):
    """Accepts the message, then the process dies before anything is recorded."""

    crash_after_accept: bool = True

    async def send(self, message: OutgoingMail) -> None:
        """Accept, then maybe die."""
        await super().send(message)
        if self.crash_after_accept:
            self.crash_after_accept = False
            raise Crash


@dataclass
class Outcomes:
    """A fake OutcomePublisher."""

    published: list[NotificationOutcomeV1] = field(default_factory=list)

    async def publish(self, outcome: NotificationOutcomeV1) -> None:
        """Keep it."""
        self.published.append(outcome)


def dispatcher_for(
    store: SqlNotificationStore,
    mailer: FakeMailer,
    clock: ManualClock,
    outcomes: Outcomes,
    overdue: timedelta = timedelta(0),
) -> Dispatcher:
    """A dispatcher whose jitter is fixed at zero (rng 0.5) so delays are exact."""
    links = LinkMaker(LinkSigner(SECRET), "https://prijave.example")
    return Dispatcher(
        store=store,
        channels=Channels(mailer, IDENTITY, links),
        outcomes=outcomes,
        clock=clock,
        retry=RetryPolicy(attempts=6, base_delay=30.0, max_delay=300.0, jitter=0.25),
        rng=lambda: 0.5,
        overdue=overdue,
    )


def invite_notice() -> Notice:
    """The invite of a fresh seat."""
    event = seat_assigned()
    return Notice(
        kind="invite",
        recipient_id=event.registration_id,
        recipient=recipient_of(event.attendee),
        session=event.session,
        revision=1,
        correlation_id="corr-d",
    )


async def queue_invite(store: SqlNotificationStore, identity: MailIdentity = IDENTITY) -> Notice:
    """Record one invite, due now."""
    notice = invite_notice()
    mail_id = message_id(notice.key, identity.sender.domain)
    assert await store.enqueue(notice, message_id=mail_id, due=NOW, now=NOW)
    assert not await store.enqueue(notice, message_id=mail_id, due=NOW, now=NOW)  # keyed
    return notice


async def test_transient_failures_back_off_exponentially_up_to_the_cap(
    store: SqlNotificationStore,
) -> None:
    clock, outcomes = ManualClock(NOW), Outcomes()
    mailer = FakeMailer(errors=[TransientMailError("SMTP 421 reply: busy")] * 5)
    dispatcher = dispatcher_for(store, mailer, clock, outcomes)
    notice = await queue_invite(store)
    waits = []
    while not mailer.sent:
        assert await dispatcher.run_once() == 1
        delivery = await store.get(notice.key)
        assert delivery is not None
        waits.append((delivery.next_attempt_at - clock.now()).total_seconds())
        assert await dispatcher.run_once() == 0  # not due before its time
        clock.advance(delivery.next_attempt_at - clock.now())
    assert waits[:5] == [30.0, 60.0, 120.0, 240.0, 300.0]
    assert [(o.status, o.attempt) for o in outcomes.published] == [
        ("deferred", 1), ("deferred", 2), ("deferred", 3), ("deferred", 4), ("deferred", 5),
        ("sent", 6),
    ]  # fmt: skip


async def test_an_idle_dispatcher_waits_until_the_next_notification_falls_due(
    store: SqlNotificationStore,
) -> None:
    clock, outcomes = ManualClock(NOW - timedelta(seconds=5)), Outcomes()
    dispatcher = dispatcher_for(store, FakeMailer(), clock, outcomes)
    assert await dispatcher.idle_seconds(1.0) == 1.0  # nothing pending: one poll
    await queue_invite(store)  # due at NOW
    assert await dispatcher.idle_seconds(1.0) == 1.0  # due later than one poll
    clock.advance(timedelta(seconds=4.7))
    assert await dispatcher.idle_seconds(1.0) == pytest.approx(0.3)
    clock.advance(timedelta(seconds=1))
    assert await dispatcher.idle_seconds(1.0) == MIN_IDLE  # overdue: claim after a short beat
    assert await dispatcher.run_once() == 1
    assert await dispatcher.idle_seconds(1.0) == 1.0  # sent: nothing pending


async def test_giving_up_fails_the_notification_and_tells_operators(
    store: SqlNotificationStore,
) -> None:
    clock, outcomes = ManualClock(NOW), Outcomes()
    mailer = FakeMailer(errors=[TransientMailError("SMTP 451 reply: later")] * 10)
    dispatcher = dispatcher_for(store, mailer, clock, outcomes)
    notice = await queue_invite(store)
    with capture_logs() as logs:
        for _ in range(10):
            await dispatcher.run_once()
            clock.advance(timedelta(hours=1))
    assert [o.status for o in outcomes.published] == ["deferred"] * 5 + ["failed"]
    assert outcomes.published[-1].detail == "gave up after 6 attempts: SMTP 451 reply: later"
    stored = await store.get(notice.key)
    assert stored is not None
    assert (stored.status, stored.attempts) == ("failed", 6)
    [line] = [entry for entry in logs if entry["event"] == "notification.dead_lettered"]
    assert line["log_level"] == "error"
    assert line["notification_key"] == notice.key
    assert "jelena" not in str(line)


async def test_retries_survive_a_restart(tmp_path: Path, store: SqlNotificationStore) -> None:
    clock, outcomes = ManualClock(NOW), Outcomes()
    broken = FakeMailer(errors=[TransientMailError("SMTP connection: ConnectionResetError")])
    notice = await queue_invite(store)
    await dispatcher_for(store, broken, clock, outcomes).run_once()
    await store.dispose()  # the process stops

    restarted = SqlNotificationStore(f"sqlite+aiosqlite:///{tmp_path / 'notifier.sqlite3'}")
    healthy = FakeMailer()
    clock.advance(timedelta(seconds=31))
    assert await dispatcher_for(restarted, healthy, clock, outcomes).run_once() == 1
    assert [m["Message-ID"] for m in healthy.sent] == [
        message_id(notice.key, "trainingops.example")
    ]
    await restarted.dispose()


async def test_a_claim_hides_the_row_from_other_dispatchers_until_its_lease_ends(
    store: SqlNotificationStore,
) -> None:
    await queue_invite(store)
    lease = timedelta(minutes=5)
    assert len(await store.claim_due(NOW, limit=10, lease=lease)) == 1
    assert await store.claim_due(NOW + lease - timedelta(seconds=1), limit=10, lease=lease) == []
    assert len(await store.claim_due(NOW + lease, limit=10, lease=lease)) == 1


async def test_the_only_duplicate_window_is_a_crash_between_acceptance_and_the_record(
    tmp_path: Path, store: SqlNotificationStore
) -> None:
    """Measured: one crash there gives exactly one duplicate, after the lease, with the same ids."""
    clock, outcomes = ManualClock(NOW), Outcomes()
    mailer = CrashingMailer()
    await queue_invite(store)
    with pytest.raises(Crash):
        await dispatcher_for(store, mailer, clock, outcomes).run_once()
    await store.dispose()

    restarted = SqlNotificationStore(f"sqlite+aiosqlite:///{tmp_path / 'notifier.sqlite3'}")
    dispatcher = dispatcher_for(restarted, mailer, clock, outcomes)
    assert await dispatcher.run_once() == 0  # still leased by the dead dispatcher
    clock.advance(dispatcher.lease)
    assert await dispatcher.run_once() == 1
    clock.advance(timedelta(days=1))
    assert await dispatcher.run_once() == 0
    assert len(mailer.sent) == 2  # the duplicate, and only one
    assert len({m["Message-ID"] for m in mailer.sent}) == 1
    assert {(e["UID"], e["SEQUENCE"]) for _, e in mailer.calendars()} == {
        (mailer.calendars()[0][1]["UID"], 0)
    }
    await restarted.dispose()


@dataclass
class StampingMailer(FakeMailer):
    """Notes when each message was accepted, by Message-ID."""

    accepted: dict[str, float] = field(default_factory=dict)

    async def send(self, message: OutgoingMail) -> None:
        """Accept and note the time."""
        await super().send(message)
        self.accepted[message.message_id] = time.perf_counter()


async def test_measure_the_window_between_acceptance_and_the_sent_record(
    store: SqlNotificationStore,
) -> None:
    """How long a crash has to hit to cause a duplicate: acceptance until `sent` is committed."""
    clock, outcomes, mailer = ManualClock(NOW), Outcomes(), StampingMailer()
    dispatcher = dispatcher_for(store, mailer, clock, outcomes)
    committed: dict[str, float] = {}
    record = store.record

    async def stamped_record(records: Sequence[Record], forget: Sequence[UUID] = ()) -> None:
        await record(records, forget)
        for done in records:
            committed[message_id(done.key, "trainingops.example")] = time.perf_counter()

    store.record = stamped_record  # type: ignore[method-assign]
    for _ in range(40):
        await queue_invite(store)
    assert await dispatcher.run_once() == dispatcher.batch == 16
    assert await dispatcher.run_once() == 16
    assert await dispatcher.run_once() == 8
    assert len(mailer.accepted) == len(committed) == 40
    windows = [committed[mail_id] - accepted for mail_id, accepted in mailer.accepted.items()]
    p50, worst = statistics.median(windows), max(windows)
    print(
        f"duplicate window (accepted to sent commit): p50={p50 * 1000:.2f} ms max={worst * 1000:.2f} ms"
    )
    assert worst < 0.5


async def test_an_operator_replays_a_failed_notification(
    tmp_path: Path, store: SqlNotificationStore
) -> None:
    clock, outcomes = ManualClock(NOW), Outcomes()
    mailer = FakeMailer(errors=[PermanentMailError("SMTP 552 reply: mailbox full")])
    dispatcher = dispatcher_for(store, mailer, clock, outcomes)
    notice = await queue_invite(store)
    await dispatcher.run_once()
    settings = NotifierSettings(data_dir=tmp_path, _env_file=None)
    assert await replay(settings, [notice.key, "no-such-key"], clock) == 1
    assert await dispatcher.run_once() == 1
    assert [m["Message-ID"] for m in mailer.sent] == [message_id(notice.key, "trainingops.example")]
    assert [o.status for o in outcomes.published] == ["failed", "sent"]


@dataclass
class FlakyOutcomes(Outcomes):
    """Kafka is away for the first `down` publishes."""

    down: int = 1

    async def publish(self, outcome: NotificationOutcomeV1) -> None:
        """Fail while down, then keep."""
        if self.down:
            self.down -= 1
            raise ConnectionError("broker away")
        await super().publish(outcome)


async def test_an_outcome_kafka_missed_is_published_later_and_the_mail_is_not_resent(
    store: SqlNotificationStore,
) -> None:
    clock, outcomes, mailer = ManualClock(NOW), FlakyOutcomes(down=1), FakeMailer()
    dispatcher = dispatcher_for(store, mailer, clock, outcomes)
    notice = await queue_invite(store)
    assert await dispatcher.run_once() == 1
    assert outcomes.published == []  # the broker was away
    assert await store.unpublished_outcomes(limit=10) != []
    clock.advance(timedelta(days=1))
    assert await dispatcher.run_once() == 0  # nothing to send, but the outcome goes out
    assert [(o.notification_key, o.status) for o in outcomes.published] == [(notice.key, "sent")]
    assert await store.unpublished_outcomes(limit=10) == []
    assert len(mailer.sent) == 1
