"""A fast SMTP sink: accepts everything, keeps only when each recipient's message was accepted."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import uvloop
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

END_OF_DATA = b"\r\n.\r\n"


class LeanSMTP(SMTP):
    """aiosmtpd's server without two costs a sink has no use for (half its CPU per message).

    The sink shares the benchmark's two cores with the services, so its CPU is taken from theirs:
    aiosmtpd reads DATA a line at a time and parses every MAIL and RCPT address with the `email`
    package's full RFC 5322 grammar, 37 % of the benchmark process's CPU in all. The message body
    is not kept here, only when it ended, and a plain `<address>` is taken as it stands.
    """

    line_length_limit = 1 << 22  # the stream's buffer: a whole message is read in one go

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """`<address> rest` split at its brackets; anything else goes to aiosmtpd's parser."""
        text = arg.lstrip()
        end = text.find(">")
        address, rest = text[1:end], text[end + 1 :]
        plain = not any(c in address for c in '<>"\\() ') and "(" not in rest
        if text.startswith("<") and end > 1 and plain and not self.local_part_limit:
            return address, rest.lstrip()
        parsed: tuple[str | None, str | None] = super()._getaddr(arg)
        return parsed

    async def smtp_DATA(self, arg: str) -> None:
        """Take the message up to its lone dot without keeping it, then ask the handler."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        seen = b"\r\n"  # the data starts a line: an empty message is a lone ".\r\n"
        while not seen.endswith(END_OF_DATA):  # only the last line end before each dot matters
            seen = seen[-2:] + await self._reader.readuntil(b".\r\n")
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push(status)


class LeanController(Controller):
    """aiosmtpd's threaded controller serving `LeanSMTP`."""

    def factory(self) -> SMTP:
        """A `LeanSMTP` for each connection."""
        return LeanSMTP(self.handler, **self.SMTP_kwargs)


class TimingSink:
    """A lean aiosmtpd on a background thread; `accepted_at[recipient]` is a `time.perf_counter()`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.accepted_at: dict[str, float] = {}
        self.messages = 0
        self.received: Counter[str] = Counter()  # messages per recipient
        self._lock = threading.Lock()
        # uvloop, as the services: the sink shares the machine with them, and its loop's own
        # CPU per message is part of what every figure pays for.
        self._controller = LeanController(
            self, hostname="127.0.0.1", port=port, loop=uvloop.new_event_loop()
        )

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Accept at once; note the time for every recipient (the first time only)."""
        now = time.perf_counter()
        with self._lock:
            self.messages += 1
            for recipient in envelope.rcpt_tos:
                self.accepted_at.setdefault(recipient.lower(), now)
                self.received[recipient.lower()] += 1
        return "250 OK"

    def count(self) -> int:
        """How many distinct recipients got a message."""
        with self._lock:
            return len(self.accepted_at)

    def all_received(self, recipients: list[str]) -> bool:
        """Whether every one of `recipients` got a message."""
        with self._lock:
            return all(r.lower() in self.accepted_at for r in recipients)

    def count_with(self, prefix: str) -> int:
        """How many distinct recipients whose address starts with `prefix` got a message."""
        with self._lock:
            return sum(1 for r in self.accepted_at if r.startswith(prefix))

    def __enter__(self) -> TimingSink:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()
