"""The SMTP sink counts every message per recipient and keeps the first acceptance time."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from types import SimpleNamespace

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP

from benchmarks.sink import LeanSMTP, TimingSink
from deploy.ports import free_port

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


def message_with(body: str, size: int = 0) -> EmailMessage:
    """A plain message whose body holds `body` and, if asked, `size` more bytes of filler lines."""
    message = EmailMessage()
    message["From"] = "training@example.gov"
    message["Subject"] = "Invite"
    filler = "".join(f"line {n:05d} ends with a full stop.\n" for n in range(size // 34))
    message.set_content(body + "\n" + filler)
    return message


async def test_messages_over_one_connection_are_each_timed_once_they_end() -> None:
    # a lone "." line (dot-stuffed on the wire), lines ending in ".", and a 200 kB body: none
    # of them may end a message early, and the connection stays usable after each.
    with TimingSink(free_port()) as sink:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port)
        async with smtp:
            await smtp.send_message(
                message_with("first\n.\nstill the first."), recipients=["A@x.example"]
            )
            await smtp.send_message(message_with("second", 200_000), recipients=["b@x.example"])
            await smtp.send_message(
                message_with("third"), recipients=["a@x.example", "c@x.example"]
            )
            assert (await smtp.noop())[0] == 250
    assert sink.messages == 3
    assert sink.received == {"a@x.example": 2, "b@x.example": 1, "c@x.example": 1}
    assert sink.accepted_at["a@x.example"] < sink.accepted_at["b@x.example"]


@pytest.mark.parametrize(
    "argument",
    [
        "<ana@x.example>",
        "<ana@x.example> SIZE=2048 BODY=8BITMIME",
        "  <ana@x.example>",
        "<>",
        "<ana@x.example> (a comment) SIZE=1",
        '<"odd name"@x.example>',
        "<a <b>@x.example>",
        "ana@x.example",
        "<unterminated@x.example",
        "",
    ],
)
async def test_addresses_are_split_as_aiosmtpd_splits_them(argument: str) -> None:
    handler = TimingSink(port=1)
    loop = asyncio.get_running_loop()
    assert LeanSMTP(handler, loop=loop)._getaddr(argument) == SMTP(handler, loop=loop)._getaddr(
        argument
    )


async def test_what_aiosmtpd_refuses_is_still_refused() -> None:
    # parameters after a plain address still reach aiosmtpd's checks; DATA still needs a recipient
    with TimingSink(free_port()) as sink:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port)
        async with smtp:
            await smtp.ehlo()
            await smtp.mail("a@x.example")
            with pytest.raises(aiosmtplib.SMTPRecipientRefused, match="parameters not recognized"):
                await smtp.rcpt("d@x.example", options=["NOTIFY=NEVER"])
            with pytest.raises(aiosmtplib.SMTPDataError, match="need RCPT"):
                await smtp.data(b"Subject: x\r\n\r\nbody\r\n")
    assert sink.messages == 0
