"""Which personal-link requests were already relayed, so a second click publishes nothing."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.registration.tables import LinkUseRow


class LinkUses:
    """Records each relayed link request by its deterministic event id."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def used(self, event_id: UUID) -> bool:
        """Whether this request was already relayed."""
        async with self.sessions() as session:
            return await session.get(LinkUseRow, event_id) is not None

    async def record(
        self, event_id: UUID, registration_id: UUID, action: str, now: datetime
    ) -> None:
        """Remember a relayed request (a concurrent duplicate is harmless: same event id)."""
        try:
            async with self.sessions.begin() as session:
                session.add(
                    LinkUseRow(
                        event_id=event_id,
                        registration_id=registration_id,
                        action=action,
                        used_at=now,
                    )
                )
        except IntegrityError:
            return
