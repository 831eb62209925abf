"""The SMTP sink counts every message per recipient and keeps the first acceptance time."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from benchmarks.sink import TimingSink

pytestmark = pytest.mark.unit


async def test_repeated_recipients_are_counted_and_keep_their_first_time() -> None:
    sink = TimingSink(port=1)  # never started: handle_DATA is called as aiosmtpd would
    for recipients in (["Trainer@Example.org"], ["trainer@example.org", "a@b.example"]):
        envelope = SimpleNamespace(rcpt_tos=recipients)
        assert await sink.handle_DATA(None, None, envelope) == "250 OK"
    assert sink.received == {"trainer@example.org": 2, "a@b.example": 1}
    assert sink.messages == 2
    assert sink.accepted_at["trainer@example.org"] <= sink.accepted_at["a@b.example"]


async def test_all_received_holds_once_every_recipient_got_a_message() -> None:
    sink = TimingSink(port=1)
    await sink.handle_DATA(None, None, SimpleNamespace(rcpt_tos=["od-1@bench.example"]))
    assert sink.all_received(["OD-1@bench.example"])
    assert not sink.all_received(["od-1@bench.example", "od-2@bench.example"])
