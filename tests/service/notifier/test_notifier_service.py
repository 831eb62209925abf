"""The notifier in memory: placements in, exactly one correct email per change, outcomes out."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.notifier.ics import invite_uid
from services.notifier.ports import PermanentMailError, TransientMailError
from shared.contracts import (
    RegistrationCancelledV1,
    RegistrationWaitlistedV1,
    SeatOfferedV1,
    SeatReleasedV1,
    SeatUpdatedV1,
)
from shared.links import LinkSigner
from tests.service.notifier.harness import (
    NOW,
    PROGRAMME_TITLE,
    SECRET,
    Harness,
    placement,
    running,
    seat_assigned,
    without_session,
)

pytestmark = pytest.mark.service
MOVED = ({"starts_at": "2026-06-17T07:30:00Z", "ends_at": "2026-06-17T14:30:00Z"},)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """A notifier without reminders (they have their own tests)."""
    async with running(tmp_path, reminder_offsets={"default": {}}) as h:
        yield h
    assert (tmp_path / "notifier.sqlite3").exists()


async def test_a_seat_gets_one_invite_and_one_sent_outcome(harness: Harness) -> None:
    event = seat_assigned()
    await harness.place(event)

    [(method, vevent)] = harness.mailer.calendars()
    assert (method, vevent["SEQUENCE"]) == ("REQUEST", 0)
    assert vevent["UID"] == invite_uid(event.registration_id, "ppz-bg-06")
    [outcome] = harness.outcomes
    assert (outcome.status, outcome.channel, outcome.kind, outcome.attempt) == (
        "sent",
        "email",
        "invite",
        1,
    )
    assert outcome.correlation_id == "corr-svc-1"
    assert outcome.registration_id == event.registration_id
    assert outcome.notification_key == f"{event.registration_id}:ppz-bg-06:invite:1"


async def test_a_redelivered_seat_sends_no_second_email(harness: Harness) -> None:
    event = seat_assigned()
    await harness.place(event)
    await harness.place(event)
    assert len(harness.mailer.sent) == 1
    assert len(harness.outcomes) == 1
    assert harness.dead_letters == []


async def test_an_update_is_one_request_with_the_same_uid_and_a_higher_sequence(
    harness: Harness,
) -> None:
    first = seat_assigned()
    moved = placement(
        SeatUpdatedV1, first.registration_id, revision=2, changes=["time"], session={"days": MOVED}
    )
    await harness.place(first)
    await harness.place(moved)
    await harness.place(moved)  # redelivered

    calendars = harness.mailer.calendars()
    assert [(m, e["SEQUENCE"]) for m, e in calendars] == [("REQUEST", 0), ("REQUEST", 1)]
    assert calendars[0][1]["UID"] == calendars[1][1]["UID"]
    assert calendars[1][1].decoded("DTSTART").date().isoformat() == "2026-06-17"
    assert [o.kind for o in harness.outcomes] == ["invite", "update"]


async def test_a_release_is_one_cancel_with_the_same_uid_and_a_higher_sequence(
    harness: Harness,
) -> None:
    first = seat_assigned()
    released = placement(
        SeatReleasedV1, first.registration_id, revision=2, release_reason="participant_cancelled"
    )
    await harness.place(first)
    await harness.place(released)
    await harness.place(released)
    await harness.place(first)  # an old event arriving late changes nothing

    calendars = harness.mailer.calendars()
    assert [(m, e["SEQUENCE"], e["STATUS"]) for m, e in calendars] == [
        ("REQUEST", 0, "CONFIRMED"),
        ("CANCEL", 1, "CANCELLED"),
    ]
    assert calendars[0][1]["UID"] == calendars[1][1]["UID"]


async def test_an_erased_registration_is_not_contacted(harness: Harness) -> None:
    first = seat_assigned()
    await harness.place(first)
    erased = placement(SeatReleasedV1, first.registration_id, revision=2, release_reason="erased")
    await harness.place(erased)
    assert len(harness.mailer.sent) == 1
    assert await harness.notifier.store.get(f"{first.registration_id}:ppz-bg-06:invite:1") is None


async def test_a_reschedule_and_a_cancellation_each_give_every_attendee_exactly_one_update(
    harness: Harness,
) -> None:
    people = [
        seat_assigned(attendee={"email": f"p{i}@opstina.example", "language": lang})
        for i, lang in enumerate(("sr-Latn", "sr-Cyrl", "bs", "en"))
    ]
    for event in people:
        await harness.place(event)
    for event in people:  # the session moves: the scheduler updates every held seat
        moved = placement(
            SeatUpdatedV1,
            event.registration_id,
            revision=2,
            changes=["time"],
            session={"days": MOVED},
            attendee=event.attendee.model_dump(),
        )
        await harness.place(moved)
        await harness.place(moved)
    for event in people:  # then it is cancelled
        cancelled = placement(
            SeatReleasedV1,
            event.registration_id,
            revision=3,
            release_reason="session_cancelled",
            attendee=event.attendee.model_dump(),
        )
        await harness.place(cancelled)
        await harness.place(cancelled)

    for event in people:
        calendars = harness.mailer.calendars(to=event.attendee.email)
        assert [(m, e["SEQUENCE"]) for m, e in calendars] == [
            ("REQUEST", 0),
            ("REQUEST", 1),
            ("CANCEL", 2),
        ]
        assert {e["UID"] for _, e in calendars} == {invite_uid(event.registration_id, "ppz-bg-06")}
    assert len(harness.mailer.sent) == 12


async def test_an_offer_is_an_email_with_links_and_no_invite(harness: Harness) -> None:
    offer = placement(SeatOfferedV1, revision=2, expires_at=NOW + timedelta(days=2))
    await harness.place(offer)
    [message] = harness.mailer.sent
    assert harness.mailer.calendars() == []
    assert message.get_body(("plain",)).get_content().count("/r/") == 2  # type: ignore[union-attr]
    assert [(o.kind, o.status) for o in harness.outcomes] == [("offer", "sent")]


async def test_no_email_without_consent(harness: Harness) -> None:
    await harness.place(seat_assigned(attendee={"consent_email": False}))
    assert harness.mailer.sent == []
    assert harness.outcomes == []


async def test_joining_the_waitlist_is_one_email_with_the_place_and_no_calendar(
    harness: Harness,
) -> None:
    event = without_session(RegistrationWaitlistedV1, position=3)
    await harness.place(event)
    await harness.place(event)  # redelivered

    [message] = harness.mailer.sent
    assert harness.mailer.calendars() == []
    assert message["Subject"] == f"Na listi čekanja ste: {PROGRAMME_TITLE}"
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"u programu „{PROGRAMME_TITLE}”" in body
    assert "na listi čekanja, pod rednim brojem 3." in body
    assert "Termin" not in body  # no session
    [token] = re.findall(r"/r/(\S+)", body)  # one personal link: to leave the waitlist
    claim = LinkSigner(SECRET).verify(token, now=NOW)
    assert (claim.registration_id, claim.action, claim.session_id, claim.revision) == (
        event.registration_id,
        "leave-waitlist",
        None,
        1,
    )
    assert claim.expires_at == event.occurred_at + timedelta(days=365)
    [outcome] = harness.outcomes
    assert (outcome.kind, outcome.status, outcome.session_id) == ("waitlisted", "sent", None)
    assert outcome.notification_key == f"{event.registration_id}::waitlisted:1"


async def test_a_move_up_the_waitlist_and_an_event_without_attendee_send_nothing(
    harness: Harness,
) -> None:
    moved = without_session(RegistrationWaitlistedV1, position=2, revision=2, joined=False)
    older = without_session(RegistrationWaitlistedV1).model_copy(update={"attendee": None})
    refused = without_session(RegistrationWaitlistedV1, attendee={"consent_email": False})
    for event in (moved, older, refused):
        await harness.place(event)
    assert harness.mailer.sent == []
    assert harness.dead_letters == []


async def test_a_seat_supersedes_a_waitlist_email_not_sent_yet(harness: Harness) -> None:
    waiting = without_session(RegistrationWaitlistedV1)
    harness.mailer.errors.append(TransientMailError("451 try later"))
    await harness.place(waiting)  # deferred for a retry
    await harness.place(seat_assigned(waiting.registration_id, revision=2))
    await harness.travel(timedelta(days=1))

    [(method, _)] = harness.mailer.calendars()
    assert (method, len(harness.mailer.sent)) == ("REQUEST", 1)
    sent = [(o.kind, o.status) for o in harness.outcomes]
    assert sent == [("waitlisted", "deferred"), ("invite", "sent")]


async def test_a_cancelled_registration_is_not_told_it_waits(harness: Harness) -> None:
    waiting = without_session(RegistrationWaitlistedV1)
    harness.mailer.errors.append(TransientMailError("451 try later"))
    await harness.place(waiting)
    cancelled = without_session(
        RegistrationCancelledV1, waiting.registration_id, revision=2, cancelled_by="participant"
    )
    await harness.place(cancelled)
    await harness.travel(timedelta(days=1))
    assert harness.mailer.sent == []
    assert harness.dead_letters == []


async def test_a_broken_mail_server_never_blocks_the_partition(harness: Harness) -> None:
    harness.mailer.errors += [TransientMailError("SMTP 451 reply: try later")] * 2
    first, second = seat_assigned(), seat_assigned()
    await harness.place(first)
    await harness.place(second)  # consumed although the first one is still failing
    assert harness.mailer.sent == []
    assert [o.status for o in harness.outcomes] == ["deferred", "deferred"]
    assert harness.dead_letters == []

    await harness.travel(timedelta(minutes=2))  # past the first backoff (30 s +/- 25 %)
    assert len(harness.mailer.sent) == 2
    assert sorted(o.attempt for o in harness.outcomes if o.status == "sent") == [2, 2]


async def test_a_permanent_failure_is_reported_once_and_not_retried(harness: Harness) -> None:
    harness.mailer.errors.append(PermanentMailError("SMTP 550 reply: no such user"))
    event = seat_assigned()
    await harness.place(event)
    await harness.travel(timedelta(days=1))

    assert harness.mailer.sent == []
    [outcome] = harness.outcomes
    assert (outcome.status, outcome.detail) == ("failed", "SMTP 550 reply: no such user")
    stored = await harness.notifier.store.get(outcome.notification_key)
    assert stored is not None
    assert stored.status == "failed"
