"""An SMTP server the tests control: accept, answer 4xx or 5xx, or be down altogether."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any, Literal

from aiosmtpd.controller import Controller

Mode = Literal["accept", "tempfail", "permfail"]
REPLIES: dict[Mode, str] = {
    "accept": "250 Message accepted for delivery",
    "tempfail": "451 4.3.0 Temporary failure, try again later",
    "permfail": "554 5.7.1 Message rejected",
}


@dataclass(frozen=True)
class Accepted:
    """One message the server accepted: who it was for, its Message-ID, whether it holds a calendar."""

    recipient: str
    message_id: str
    calendar: bool


@dataclass
class ControlledSmtp:
    """aiosmtpd on a fixed loopback port; `mode` decides the reply to DATA."""

    port: int
    mode: Mode = "accept"
    accepted: list[Accepted] = field(default_factory=list)
    refused: int = 0
    _controller: Controller | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Reply as `mode` says; keep what was accepted."""
        if self.mode != "accept":
            with self._lock:
                self.refused += 1
            return REPLIES[self.mode]
        message = message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        calendar = any(part.get_content_type() == "text/calendar" for part in message.walk())
        with self._lock:
            for recipient in envelope.rcpt_tos:
                message_id = str(message["Message-ID"])
                self.accepted.append(Accepted(recipient.lower(), message_id, calendar))
        return REPLIES["accept"]

    def start(self) -> None:
        """Listen (again) on the same port."""
        if self._controller is None:
            self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def stop(self) -> None:
        """Stop listening: clients get `connection refused`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def per_recipient(self, *, calendar: bool | None = None) -> Counter[str]:
        """How many messages each recipient got (only those with, or without, a calendar)."""
        with self._lock:
            return Counter(a.recipient for a in self.accepted if calendar in (None, a.calendar))

    def message_ids(self, recipient: str) -> set[str]:
        """The distinct Message-IDs a recipient got."""
        with self._lock:
            return {a.message_id for a in self.accepted if a.recipient == recipient}
