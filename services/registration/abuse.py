"""Abuse controls: rate limits per client address and per person, and a daily SMS budget."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from datetime import time as day_time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from services.registration.store import RegistrationStore

PREFIX_HIDDEN_DIGITS = 3
"""A phone prefix is the E.164 number without its last three digits (a block of 1,000 numbers)."""


class RateLimited(Exception):
    """Too many requests from one address or for one person; try again after `retry_after_s`."""

    def __init__(self, scope: str, retry_after_s: int) -> None:
        super().__init__(scope)
        self.scope, self.retry_after_s = scope, retry_after_s


class RateLimits:
    """Moving-window limits (the `limits` library, in memory: one process, one window)."""

    def __init__(
        self,
        per_address: str,
        per_person: str,
        per_phone_prefix: str = "20/hour",
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_address: RateLimitItem = parse(per_address)
        self.per_person: RateLimitItem = parse(per_person)
        self.per_phone_prefix: RateLimitItem = parse(per_phone_prefix)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.wall_clock = wall_clock

    async def check_address(self, address: str) -> None:
        """Count one request from a client address, or raise RateLimited."""
        await self._hit(self.per_address, "address", address)

    async def check_person(self, email: str, phone: str | None) -> None:
        """Count one submission for an email address and a phone number, or raise RateLimited."""
        await self._hit(self.per_person, "email", email)
        if phone:
            await self._hit(self.per_person, "phone", phone)
            # SMS pumping walks through a number range: count the range too
            await self._hit(self.per_phone_prefix, "phone_prefix", phone[:-PREFIX_HIDDEN_DIGITS])

    async def _hit(self, item: RateLimitItem, scope: str, key: str) -> None:
        if await self.limiter.hit(item, scope, key):
            return
        stats = await self.limiter.get_window_stats(item, scope, key)
        raise RateLimited(scope, max(1, math.ceil(stats.reset_time - self.wall_clock())))


class SmsBudget:
    """At most `daily` new registrations with SMS consent per UTC day; the rest get email only."""

    def __init__(self, daily: int, store: RegistrationStore) -> None:
        self.daily, self.store = daily, store
        self.lock = asyncio.Lock()

    @asynccontextmanager
    async def reserve(self, now: datetime) -> AsyncIterator[bool]:
        """Yield whether SMS still fits today's budget; hold the count until the block ends."""
        async with self.lock:  # counting and recording the registration must not interleave
            midnight = datetime.combine(now.date(), day_time(0), tzinfo=UTC)
            yield await self.store.sms_consents_since(midnight) < self.daily
