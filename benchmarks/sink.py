"""A fast SMTP sink: accepts everything, keeps only when each recipient's message was accepted."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import uvloop
from aiosmtpd.controller import Controller


class TimingSink:
    """aiosmtpd on a background thread; `accepted_at[recipient]` is a `time.perf_counter()` reading."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.accepted_at: dict[str, float] = {}
        self.messages = 0
        self.received: Counter[str] = Counter()  # messages per recipient
        self._lock = threading.Lock()
        # uvloop, as the services: the sink shares the machine with them, and its loop's own
        # CPU per message is part of what every figure pays for.
        self._controller = Controller(
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
