"""The SMTP adapter against a real SMTP server (aiosmtpd) on a free local port."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtplib import protocol as smtp_protocol
from aiosmtplib import smtp as smtp_client

from deploy.ports import free_port
from services.notifier import smtp_wire
from services.notifier.ports import OutgoingMail, PermanentMailError, TransientMailError
from services.notifier.smtp import SmtpConfig, SmtpMailer

pytestmark = pytest.mark.integration
SENDER, RECIPIENT = "training@trainingops.example", "djordje@opstina.example"
CALENDAR = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Obuka č\\, ž\r\nEND:VCALENDAR\r\n".encode()


@dataclass
class Server:
    """An aiosmtpd handler that accepts, or answers with the queued replies first."""

    data_replies: list[str] = field(default_factory=list)
    rcpt_reply: str | None = None
    received: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    sessions: list[int] = field(default_factory=list)
    delay: float = 0.0
    active: int = 0
    peak: int = 0
    noops: int = 0

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:
        """Count the probes."""
        self.noops += 1
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        """Refuse when told to, otherwise accept the recipient."""
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Answer the next queued reply, or keep the message (after `delay`, counting overlaps)."""
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.active -= 1
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(envelope.original_content or envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.sessions.append(id(session))
        return "250 Message accepted for delivery"


class Servers:
    """Real SMTP servers on free local ports, stopped at the end of the test."""

    def __init__(self) -> None:
        self.running: list[Controller] = []

    def start(self, port: int | None = None, **replies: Any) -> tuple[Server, int]:
        """Start a server with `replies` (see Server) and return it with its port."""
        handler = Server(**replies)
        controller = Controller(handler, hostname="127.0.0.1", port=port or free_port())
        controller.start()
        self.running.append(controller)
        return handler, controller.port

    def stop_all(self) -> None:
        """Stop every running server."""
        while self.running:
            self.running.pop().stop()


@pytest.fixture
def servers() -> Iterator[Servers]:
    """Start servers in a test; they are stopped afterwards."""
    started = Servers()
    yield started
    started.stop_all()


def mailer_for(port: int, pool_size: int = 1, **options: Any) -> SmtpMailer:
    """The adapter pointed at a local server, with a short timeout."""
    config = SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout=5)
    return SmtpMailer(config, pool_size=pool_size, **options)


def message(subject: str = "Potvrda mesta: Obuka č ć ž š đ") -> OutgoingMail:
    """A small message with non-ASCII headers and body, as it goes on the wire."""
    mail = EmailMessage()
    mail["From"] = Address("Training Office", addr_spec=SENDER)
    mail["To"] = Address("Đorđe Šćekić", addr_spec=RECIPIENT)
    mail["Subject"] = subject
    mail["Message-ID"] = "<0123456789abcdef@trainingops.example>"
    mail.set_content("Poštovani, Ћирилица.\n", cte="quoted-printable")
    mail.add_alternative(
        CALENDAR,
        maintype="text",
        subtype="calendar",
        params={"method": "REQUEST", "charset": "utf-8"},
    )
    wire = mail.as_bytes(policy=policy.SMTP)
    return OutgoingMail(SENDER, (RECIPIENT,), str(mail["Message-ID"]), wire)


async def test_a_message_is_delivered_and_parses_back(servers: Servers) -> None:
    server, port = servers.start()
    mailer, sent = mailer_for(port), message()
    await mailer.send(sent)
    await mailer.close()

    [raw] = server.received
    assert raw == sent.data  # byte for byte as composed
    assert server.envelopes == [(SENDER, [RECIPIENT])]
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["Subject"] == "Potvrda mesta: Obuka č ć ž š đ"
    assert parsed["Message-ID"] == "<0123456789abcdef@trainingops.example>"
    assert parsed["To"].addresses[0].display_name == "Đorđe Šćekić"
    text, calendar = (part for part in parsed.walk() if not part.is_multipart())
    assert text.get_content().splitlines() == ["Poštovani, Ћирилица."]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_payload(decode=True) == CALENDAR  # byte for byte, CRLF included


async def test_one_connection_serves_many_messages(servers: Servers) -> None:
    server, port = servers.start()
    mailer = mailer_for(port)
    for n in range(3):
        await mailer.send(message(f"n{n}"))
    await mailer.close()
    assert len(server.received) == 3
    assert len(set(server.sessions)) == 1


async def test_a_dropped_connection_is_reopened(servers: Servers) -> None:
    first, port = servers.start()
    mailer = mailer_for(port, probe_after=0.0)  # probe before every reuse
    await mailer.send(message("before"))
    servers.stop_all()  # the pooled connection is now dead
    second, _ = servers.start(port=port)
    await mailer.send(message("after"))
    await mailer.close()
    assert len(first.received) == 1
    assert len(second.received) == 1


async def test_a_451_is_transient_and_the_next_try_succeeds(servers: Servers) -> None:
    server, port = servers.start(data_replies=["451 4.3.0 Try again later"])
    mailer = mailer_for(port)
    with pytest.raises(TransientMailError, match="451"):
        await mailer.send(message())
    await mailer.send(message())
    await mailer.close()
    assert len(server.received) == 1


async def test_a_550_is_permanent(servers: Servers) -> None:
    _, port = servers.start(data_replies=["550 5.7.1 Message rejected"])
    with pytest.raises(PermanentMailError, match="550"):
        await mailer_for(port).send(message())


async def test_a_refused_recipient_is_permanent(servers: Servers) -> None:
    _, port = servers.start(rcpt_reply="550 5.1.1 <djordje@opstina.example>: no such user")
    with pytest.raises(PermanentMailError, match="550") as caught:
        await mailer_for(port).send(message())
    assert "djordje@" not in str(caught.value)  # errors travel to logs: no addresses


async def test_a_greylisted_recipient_is_transient(servers: Servers) -> None:
    _, port = servers.start(rcpt_reply="450 4.2.0 Greylisted, come back later")
    with pytest.raises(TransientMailError, match="450"):
        await mailer_for(port).send(message())


async def test_a_server_that_stops_answering_is_transient_and_the_next_try_reconnects(
    servers: Servers,
) -> None:
    server, port = servers.start(delay=2.0)  # DATA answered after 2 s: past the deadline
    config = SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout=0.3)
    mailer = SmtpMailer(config)
    with pytest.raises(TransientMailError, match="TimeoutError"):
        await mailer.send(message())
    server.delay = 0.0
    await mailer.send(message())  # on a new connection: the one that timed out was dropped
    assert len(server.received) == 1
    await mailer.close()


async def test_no_server_is_transient() -> None:
    with pytest.raises(TransientMailError, match="connection"):
        await mailer_for(free_port()).send(message())


async def test_a_pool_sends_on_several_connections_at_once_and_never_more(
    servers: Servers,
) -> None:
    server, port = servers.start(delay=0.2)
    mailer = mailer_for(port, pool_size=3)
    await asyncio.gather(*(mailer.send(message(f"n{n}")) for n in range(9)))
    await mailer.close()
    subjects = sorted(
        BytesParser(policy=policy.default).parsebytes(m)["Subject"] for m in server.received
    )
    assert subjects == [f"n{n}" for n in range(9)]  # each once
    assert server.peak == 3
    assert len(set(server.sessions)) == 3  # three connections, each reused


async def test_a_failure_on_one_pooled_connection_leaves_the_others_sending(
    servers: Servers,
) -> None:
    server, port = servers.start(delay=0.05, data_replies=["451 4.3.0 try later"])
    mailer = mailer_for(port, pool_size=2)
    results = await asyncio.gather(
        *(mailer.send(message(f"n{n}")) for n in range(6)), return_exceptions=True
    )
    await mailer.close()
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1
    assert isinstance(errors[0], TransientMailError)
    assert len(server.received) == 5


async def test_a_connection_that_just_answered_is_reused_without_a_probe(
    servers: Servers,
) -> None:
    server, port = servers.start()
    now = [100.0]
    mailer = mailer_for(port, probe_after=2.0, monotonic=lambda: now[0])
    await mailer.send(message("first"))
    now[0] += 1.5
    await mailer.send(message("soon after"))
    assert server.noops == 0
    now[0] += 2.0  # idle long enough for a server to have closed it: probe first
    await mailer.send(message("later"))
    await mailer.close()
    assert server.noops == 1
    assert len(server.received) == 3
    assert len(set(server.sessions)) == 1


async def test_lines_starting_with_dots_arrive_as_composed_through_the_wire_equivalents(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module, name in (
        (smtp_protocol, "normalize_message_line_endings"),
        (smtp_client, "normalize_message_line_endings"),
        (smtp_protocol, "PERIOD_REGEX"),
    ):
        monkeypatch.setattr(module, name, getattr(module, name))  # the library's, put back after
    calls: list[str] = []
    equivalent = smtp_wire.normalize_line_ends

    def counted_line_ends(message: bytes) -> bytes:
        calls.append("line ends")
        return equivalent(message)

    class CountedDots(smtp_wire.LineStartDots):
        def sub(self, replacement: bytes, message: bytes, count: int = 0) -> bytes:
            calls.append("dots")
            return super().sub(replacement, message, count)

    monkeypatch.setattr(smtp_wire, "normalize_line_ends", counted_line_ends)
    monkeypatch.setattr(smtp_wire, "LineStartDots", CountedDots)
    server, port = servers.start()
    mailer = mailer_for(port)  # installs the equivalents into aiosmtplib
    sent = message()
    body = b"\r\n.\r\n..two\r\n.one\r\nend.\r\n"  # a lone dot ends DATA unless doubled
    dotted = OutgoingMail(sent.sender, sent.recipients, sent.message_id, sent.data + body)
    await mailer.send(dotted)
    await mailer.close()

    assert server.received == [dotted.data]
    assert calls == ["line ends", "line ends", "dots"]  # SIZE's count, then DATA's two passes
