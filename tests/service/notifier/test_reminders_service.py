"""Reminders through the whole notifier: planned, sent when due, recomputed, suppressed, durable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.contracts import SeatReleasedV1, SeatUpdatedV1
from tests.service.notifier.harness import Harness, placement, running, seat_assigned

pytestmark = pytest.mark.service
PHONE = {"phone": "+381641234567", "consent_sms": True, "language": "sr-Cyrl"}


def at(text: str) -> datetime:
    """A UTC moment."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def reminders(h: Harness) -> list[tuple[str, str, datetime]]:
    """(channel, status, when) of every reminder outcome."""
    return [(o.channel, o.status, o.occurred_at) for o in h.outcomes if o.kind == "reminder"]


async def test_each_reminder_is_sent_once_when_due_in_the_recipients_language(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as h:
        await h.place(seat_assigned(attendee=PHONE))
        assert await h.travel_to(at("2026-06-03T07:29:59")) == 0
        assert await h.travel_to(at("2026-06-03T07:30:00")) == 1  # 7 days before, 09:30 CEST
        assert await h.travel_to(at("2026-06-09T07:30:00")) == 1  # 1 day before
        assert await h.travel_to(at("2026-06-10T06:00:00")) == 1  # SMS at 08:00 (quiet until then)
        assert await h.travel_to(at("2026-06-20T00:00:00")) == 0
    assert reminders(h) == [
        ("email", "sent", at("2026-06-03T07:30")),
        ("email", "sent", at("2026-06-09T07:30")),
        ("sms", "sent", at("2026-06-10T06:00")),
    ]
    assert [m["Subject"] for m in h.mailer.sent[1:]] == ["Подсетник: Javne nabavke u praksi"] * 2
    [sms] = h.sms.sent
    assert (sms.to, sms.encoding, sms.segments) == ("+381641234567", "UCS-2", 2)
    assert sms.text.startswith("Подсетник: „Javne nabavke u praksi” среда, 10. 6. 2026. 09:30")
    assert "(Europe/Belgrade)" in sms.text
    [sms_outcome] = [o for o in h.outcomes if o.channel == "sms"]
    assert sms_outcome.detail == "UCS-2, 2 segment(s)"


async def test_a_moved_session_recomputes_its_reminders(tmp_path: Path) -> None:
    async with running(tmp_path, reminder_offsets={"default": {"email": ["P1D"]}}) as h:
        first = seat_assigned()
        await h.place(first)
        moved_days = [{"starts_at": "2026-06-17T07:30:00Z", "ends_at": "2026-06-17T14:30:00Z"}]
        await h.place(
            placement(
                SeatUpdatedV1,
                first.registration_id,
                revision=2,
                changes=["time"],
                session={"days": moved_days},
            )
        )
        assert await h.travel_to(at("2026-06-09T08:00")) == 0  # the old time: nothing
        assert await h.travel_to(at("2026-06-16T07:30")) == 1
    assert reminders(h) == [("email", "sent", at("2026-06-16T07:30"))]


async def test_a_released_seat_gets_no_reminder(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        first = seat_assigned(attendee=PHONE)
        await h.place(first)
        released = placement(
            SeatReleasedV1, first.registration_id, revision=2, release_reason="staff_cancelled"
        )
        await h.place(released)
        await h.travel_to(at("2026-06-10T07:00"))
    assert reminders(h) == []
    assert h.sms.sent == []
    assert [o.kind for o in h.outcomes] == ["invite", "cancellation"]


async def test_reminders_survive_a_restart_and_quiet_hours_defer_a_late_one(
    tmp_path: Path,
) -> None:
    offsets = {"default": {"email": ["PT15H"]}}  # due 16:30 local the day before
    async with running(tmp_path, reminder_offsets=offsets) as h:
        await h.place(seat_assigned())
    # The notifier is down from the evening until 23:00 local: the reminder waits for 08:00.
    async with running(tmp_path, reminder_offsets=offsets) as restarted:
        restarted.clock.advance(at("2026-06-09T21:00") - restarted.clock.now())
        assert await restarted.dispatch() == 1  # 23:00 CEST: quiet, deferred
        assert restarted.mailer.sent == []
        assert await restarted.travel_to(at("2026-06-10T05:59")) == 0
        assert await restarted.travel_to(at("2026-06-10T06:00")) == 1  # 08:00 CEST
    assert reminders(restarted) == [
        ("email", "deferred", at("2026-06-09T21:00")),
        ("email", "sent", at("2026-06-10T06:00")),
    ]
    assert len(restarted.mailer.sent) == 1


async def test_programmes_have_their_own_offsets(tmp_path: Path) -> None:
    offsets = {"default": {"email": ["P1D"]}, "ppz-2026": {"email": ["P3D"], "sms": []}}
    async with running(tmp_path, reminder_offsets=offsets) as h:
        await h.place(seat_assigned())
        assert await h.travel_to(at("2026-06-07T07:29")) == 0
        assert await h.travel_to(at("2026-06-07T07:30")) == 1
        assert await h.travel_to(at("2026-06-10T07:00")) == 0
    assert reminders(h) == [("email", "sent", at("2026-06-07T07:30"))]


async def test_nothing_is_sent_after_the_session_started(tmp_path: Path) -> None:
    async with running(tmp_path, reminder_offsets={"default": {"email": ["PT1H"]}}) as h:
        await h.place(seat_assigned())
        await h.travel_to(at("2026-06-10T09:00"))  # the dispatcher was away past the start
    assert reminders(h) == [("email", "failed", at("2026-06-10T09:00"))]
    assert [m["Subject"].split(":")[0] for m in h.mailer.sent] == ["Potvrda mesta"]
