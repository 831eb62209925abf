"""Keep the catalogue view across restarts: the newest published event of each session."""

from __future__ import annotations

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.registration.catalogue_view import CatalogueView
from services.registration.tables import PublishedSessionRow
from shared.catalogue import UnknownProgramme
from shared.contracts import SessionPublishedV1

log = structlog.stdlib.get_logger("registration")


class PublishedSessions:
    """Stores session updates and replays them into a view."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def save(self, event: SessionPublishedV1) -> None:
        """Keep the event if it is the newest revision of its session."""
        session_id = event.session.session_id
        async with self.sessions.begin() as session:
            row = await session.get(PublishedSessionRow, session_id, with_for_update=True)
            if row is None:
                row = PublishedSessionRow(session_id=session_id, revision=0, event_json="")
                session.add(row)
            if event.revision > row.revision:
                row.revision, row.event_json = event.revision, event.model_dump_json()

    async def replay(self, view: CatalogueView) -> None:
        """Apply every stored update to a view built from the YAML file."""
        async with self.sessions() as session:
            rows = await session.scalars(select(PublishedSessionRow))
            events = [SessionPublishedV1.model_validate_json(r.event_json) for r in rows]
        for event in events:
            view.apply(event)


async def on_session_published(
    event: SessionPublishedV1, *, view: CatalogueView, store: PublishedSessions
) -> None:
    """Follow a staff change of a session (idempotent: older revisions are ignored)."""
    try:
        applied = view.apply(event)
    except UnknownProgramme:
        log.warning("catalogue.unknown_programme", programme_id=event.session.programme_id)
        return
    await store.save(event)
    log.info(
        "catalogue.session_updated",
        session_id=event.session.session_id,
        revision=event.revision,
        status=event.status,
        applied=applied,
    )
