"""Abuse controls: rate limits per client address and per person, and a daily SMS budget."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from datetime import time as day_time

from limits import parse

from services.registration.moving_window import MovingWindow
from services.registration.store import RegistrationStore

PREFIX_HIDDEN_DIGITS = 3
"""A phone prefix is the E.164 number without its last three digits (a block of 1,000 numbers)."""


class RateLimited(Exception):
    """Too many requests from one address or for one person; try again after `retry_after_s`."""

    def __init__(self, scope: str, retry_after_s: int) -> None:
        super().__init__(scope)
        self.scope, self.retry_after_s = scope, retry_after_s


def moving_window(notation: str, now: Callable[[], float]) -> MovingWindow:
    """A moving window from `limits` notation, e.g. "20/minute"."""
    item = parse(notation)
    return MovingWindow(item.amount, item.get_expiry(), now)


class RateLimits:
    """Moving-window limits in memory (one process, one window), in `limits` notation."""

    def __init__(
        self,
        per_address: str,
        per_person: str,
        per_phone_prefix: str = "20/hour",
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_address = moving_window(per_address, now)
        self.per_email = moving_window(per_person, now)
        self.per_phone = moving_window(per_person, now)
        self.per_phone_prefix = moving_window(per_phone_prefix, now)

    async def check_address(self, address: str) -> None:
        """Count one request from a client address, or raise RateLimited."""
        self._hit(self.per_address, "address", address)

    async def check_person(self, email: str, phone: str | None) -> None:
        """Count one submission for an email address and a phone number, or raise RateLimited."""
        self._hit(self.per_email, "email", email)
        if phone:
            self._hit(self.per_phone, "phone", phone)
            # SMS pumping walks through a number range: count the range too
            self._hit(self.per_phone_prefix, "phone_prefix", phone[:-PREFIX_HIDDEN_DIGITS])

    @staticmethod
    def _hit(window: MovingWindow, scope: str, key: str) -> None:
        wait_s = window.hit(key)
        if wait_s is not None:
            raise RateLimited(scope, max(1, math.ceil(wait_s)))


class SmsBudget:
    """At most `daily` new registrations with SMS consent per UTC day; the rest get email only.

    The day's count is read from the store once, then kept in memory: a slot is taken before
    the registration is published and given back if publishing fails, so concurrent
    registrations never wait for each other's Kafka acknowledgement.
    """

    def __init__(self, daily: int, store: RegistrationStore) -> None:
        self.daily, self.store = daily, store
        self.lock = asyncio.Lock()
        self.day: date | None = None
        self.used = 0

    @asynccontextmanager
    async def reserve(self, now: datetime) -> AsyncIterator[bool]:
        """Yield whether SMS still fits today's budget; a slot taken is returned if the block fails."""
        allowed = await self._take(now)
        try:
            yield allowed
        except BaseException:
            if allowed and self.day == now.date():
                self.used -= 1
            raise

    async def _take(self, now: datetime) -> bool:
        async with self.lock:  # only the first registration of a day reads the store
            if self.day != now.date():
                midnight = datetime.combine(now.date(), day_time(0), tzinfo=UTC)
                self.used = await self.store.sms_consents_since(midnight)
                self.day = now.date()
            if self.used >= self.daily:
                return False
            self.used += 1
            return True
