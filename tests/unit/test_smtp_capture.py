"""The local SMTP capture server: real SMTP in, .eml files and one privacy-safe log line out."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib
import pytest

from deploy.local.smtp_capture import SmtpCapture, message_ref
from shared.logging import configure_logging

pytestmark = pytest.mark.unit

RECIPIENTS = ["ana.petrovic@example.org", "marko.jovanovic@example.org"]


@pytest.fixture
def log_stream() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("smtp-capture-test", fmt="json", stream=stream)
    return stream


@pytest.fixture
def capture(tmp_path: Path) -> Iterator[SmtpCapture]:
    with SmtpCapture(tmp_path / "mail") as server:
        yield server


def invitation() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "training@example.gov"
    message["To"] = ", ".join(RECIPIENTS)
    message["Subject"] = "Poziv na obuku — Javne nabavke"
    message["Message-ID"] = make_msgid(domain="trainingops.example")
    message.set_content("Poštovani, pozivamo Vas na obuku.")
    return message


async def test_accepted_message_is_kept_as_eml_and_parsed_back(capture: SmtpCapture) -> None:
    sent = invitation()
    await aiosmtplib.send(sent, hostname="127.0.0.1", port=capture.port)

    files = list(capture.mail_dir.glob("*.eml"))
    assert len(files) == 1
    assert not list(capture.mail_dir.glob(".*.tmp"))
    [received] = capture.messages()
    assert received["Message-ID"] == sent["Message-ID"]
    assert received["Subject"] == sent["Subject"]
    assert "pozivamo Vas" in received.get_content()


async def test_messages_are_listed_oldest_first(capture: SmtpCapture) -> None:
    for subject in ("first", "second", "third"):
        message = invitation()
        message.replace_header("Subject", subject)
        await aiosmtplib.send(message, hostname="127.0.0.1", port=capture.port)

    assert [m["Subject"] for m in capture.messages()] == ["first", "second", "third"]


async def test_log_line_counts_recipients_without_addresses(
    capture: SmtpCapture, log_stream: io.StringIO
) -> None:
    sent = invitation()
    await aiosmtplib.send(sent, hostname="127.0.0.1", port=capture.port)

    output = log_stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if "mail.captured" in line]
    assert len(lines) == 1
    [line] = lines
    [eml] = capture.mail_dir.glob("*.eml")
    assert line["file"] == eml.name
    assert line["recipient_count"] == len(RECIPIENTS)
    assert line["size_bytes"] == eml.stat().st_size
    assert line["message_ref"] == message_ref(sent["Message-ID"])
    assert "@" not in output
