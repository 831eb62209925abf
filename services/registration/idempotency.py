"""Idempotency-Key: the same key answers the same registration id and publishes nothing new."""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.registration.tables import IdempotencyKeyRow


class KeyReused(ValueError):
    """An Idempotency-Key came back with a different request."""


def fingerprint(canonical_json: str) -> str:
    """A digest of the validated request, so formatting differences do not matter."""
    return hashlib.sha256(canonical_json.encode()).hexdigest()


class IdempotencyKeys:
    """Remembers which registration each Idempotency-Key produced."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def recall(self, key: str, digest: str) -> UUID | None:
        """The registration a key produced, None for a new key; KeyReused if the request differs."""
        async with self.sessions() as session:
            row = await session.get(IdempotencyKeyRow, key)
        if row is None:
            return None
        if row.fingerprint != digest:
            raise KeyReused(key)
        return row.registration_id

    async def remember(self, key: str, digest: str, registration_id: UUID, now: datetime) -> None:
        """Record what a key produced (the first answer stays)."""
        async with self.sessions.begin() as session:
            if await session.get(IdempotencyKeyRow, key) is None:
                session.add(
                    IdempotencyKeyRow(
                        key=key, fingerprint=digest, registration_id=registration_id, created_at=now
                    )
                )
