"""Idempotency-Key: the same key answers the same registration id and publishes nothing new."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registration.group_commit import GroupCommit
from services.registration.tables import IdempotencyKeyRow
from services.registration.upserts import insert_ignoring_duplicates

TABLE: Table = IdempotencyKeyRow.__table__  # type: ignore[assignment]
Stored = tuple[str, UUID]  # the request's fingerprint, the registration it produced


class KeyReused(ValueError):
    """An Idempotency-Key came back with a different request."""


def fingerprint(canonical_json: str) -> str:
    """A digest of the validated request, so formatting differences do not matter."""
    return hashlib.sha256(canonical_json.encode()).hexdigest()


class IdempotencyKeys:
    """Remembers which registration each Idempotency-Key produced.

    Concurrent requests share one query and one transaction (group commit).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.insert = insert_ignoring_duplicates(engine.dialect.name, TABLE)
        self.lookups = GroupCommit(self.recall_many)
        self.records = GroupCommit(self.remember_many)

    async def recall(self, key: str, digest: str) -> UUID | None:
        """The registration a key produced, None for a new key; KeyReused if the request differs."""
        stored = await self.lookups.run(key)
        if stored is None:
            return None
        stored_digest, registration_id = stored
        if stored_digest != digest:
            raise KeyReused(key)
        return registration_id

    async def recall_many(self, keys: Sequence[str]) -> list[Stored | None]:
        """For each key, what was stored for it (or None): one query."""
        query = select(TABLE.c.key, TABLE.c.fingerprint, TABLE.c.registration_id)
        async with self.engine.connect() as connection:
            rows = await connection.execute(query.where(TABLE.c.key.in_(set(keys))))
            found = {key: (digest, registration_id) for key, digest, registration_id in rows}
        return [found.get(key) for key in keys]

    async def remember(self, key: str, digest: str, registration_id: UUID, now: datetime) -> None:
        """Record what a key produced (the first answer stays)."""
        row = {"key": key, "fingerprint": digest, "registration_id": registration_id}
        await self.records.run({**row, "created_at": now})

    async def remember_many(self, rows: Sequence[dict[str, Any]]) -> list[None]:
        """Record many keys in one transaction; a key already stored, or repeated, keeps its first row."""
        first: dict[str, dict[str, Any]] = {}
        for row in rows:
            first.setdefault(row["key"], row)
        async with self.engine.begin() as connection:
            await connection.execute(self.insert, list(first.values()))
        return [None] * len(rows)
