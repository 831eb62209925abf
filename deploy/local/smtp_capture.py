"""A local SMTP server that keeps every accepted message as an .eml file (for dev and tests)."""

from __future__ import annotations

import argparse
import hashlib
import os
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from deploy.lifecycle import StartStop
from deploy.ports import free_port
from deploy.signals import wait_for_stop_signal
from shared.logging import configure_logging, get_logger

log = get_logger(__name__)


def message_ref(message_id: str | None) -> str | None:
    """A stable digest of a Message-ID: correlatable, yet free of the address-like raw value."""
    if not message_id:
        return None
    return "mid-" + hashlib.sha256(message_id.strip().encode()).hexdigest()[:16]


class MailFolderHandler:
    """aiosmtpd handler: write each message to the folder atomically and log one line."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Store the message; the SMTP reply tells the client it was accepted."""
        content: bytes = envelope.original_content or envelope.content
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.eml"
        scratch = self.mail_dir / f".{name}.tmp"
        scratch.write_bytes(content)
        os.replace(scratch, self.mail_dir / name)
        headers = BytesParser(policy=policy.default).parsebytes(content, headersonly=True)
        log.info(
            "mail.captured",
            file=name,
            message_ref=message_ref(headers.get("Message-ID")),
            recipient_count=len(envelope.rcpt_tos),
            size_bytes=len(content),
        )
        return "250 Message accepted for delivery"


class SmtpCapture(StartStop):
    """An SMTP server on a background thread that captures mail into `mail_dir`."""

    def __init__(self, mail_dir: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mail_dir = Path(mail_dir)
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen; with port 0 a free port is chosen and stored in `self.port`."""
        if self._controller is not None:
            return
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        handler = MailFolderHandler(self.mail_dir)
        self._controller = Controller(
            handler, hostname=self.host, port=self.port, enable_SMTPUTF8=True
        )
        self._controller.start()

    def stop(self) -> None:
        """Stop listening; idempotent."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        """Every captured message, parsed, oldest first."""
        parser = BytesParser(_class=EmailMessage, policy=policy.default)
        files = sorted(self.mail_dir.glob("*.eml"))  # names start with a UTC timestamp
        return [parser.parsebytes(path.read_bytes()) for path in files]


def main(argv: list[str] | None = None) -> None:
    """CLI: capture mail into --dir on --port until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m deploy.local.smtp_capture")
    parser.add_argument("--dir", type=Path, required=True, help="where .eml files are written")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    args = parser.parse_args(argv)
    configure_logging("smtp-capture")
    with SmtpCapture(args.dir, host=args.host, port=args.port) as capture:
        log.info("smtp_capture.listening", port=capture.port)
        wait_for_stop_signal()


if __name__ == "__main__":
    main()
