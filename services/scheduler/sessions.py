"""Use cases on sessions: seed them from the catalogue, and apply staff changes.

Every change stores the session with a raised revision, applies the rules to the people placed in
it, and writes SessionPublishedV1 plus every placement event to the outbox in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import structlog

from services.scheduler import announce
from services.scheduler.domain import staff
from services.scheduler.handlers import Deps, commit_changes, publish
from services.scheduler.programme_tx import ProgrammeTx, StoredSession
from services.scheduler.views import slot_of
from shared import topics
from shared.catalogue import Programme, Session, UnknownSession

log = structlog.stdlib.get_logger(__name__)


async def seed_catalogue(deps: Deps) -> int:
    """Store and announce every catalogue session the database does not know yet."""
    added = 0
    for programme in deps.catalogue.programmes:
        added += await add_sessions(deps, programme.id, programme.sessions, correlation_id="seed")
    return added


async def add_sessions(
    deps: Deps, programme_id: str, sessions: Sequence[Session], *, correlation_id: str
) -> int:
    """Add the sessions not stored yet (ids already present are left alone); return how many."""
    now = deps.clock.now()
    added = 0
    async with deps.store.transaction(programme_id) as tx:
        known = await tx.sessions()
        book = await tx.load_book(deps.policy)
        for session in sessions:
            if session.id in known:
                continue
            stored = StoredSession(session, "scheduled", 1)
            await _announce_session(tx, stored, correlation_id, now)
            staff.add_session(book, slot_of(session), now)
            added += 1
        await commit_changes(tx, book, now)
    await publish(deps)
    return added


async def change_session(
    deps: Deps, programme_id: str, session: Session, *, correlation_id: str
) -> StoredSession:
    """Replace a session (time, venue, link, title, trainers, capacity) and tell its people."""
    now = deps.clock.now()
    async with deps.store.transaction(programme_id) as tx:
        before = await _stored(tx, session.id)
        if before.cancelled:
            raise ValueError(f"session {session.id!r} is cancelled")
        book = await tx.load_book(deps.policy)
        changes = differences(before.session, session)
        moved = replace(slot_of(session), capacity=before.session.capacity)  # resized next
        staff.update_session(book, moved, changes, now)
        if session.capacity != before.session.capacity:
            staff.resize(book, session.id, session.capacity, now)
        after = replace(before, session=session, revision=before.revision + 1)
        await _announce_session(tx, after, correlation_id, now)
        await commit_changes(tx, book, now)
    await publish(deps)
    return after


async def cancel_session(
    deps: Deps, programme_id: str, session_id: str, *, correlation_id: str
) -> StoredSession:
    """Cancel a session: its people are re-placed by their other preferences, or waitlisted."""
    now = deps.clock.now()
    async with deps.store.transaction(programme_id) as tx:
        before = await _stored(tx, session_id)
        after = replace(
            before, status="cancelled", revision=before.revision + (0 if before.cancelled else 1)
        )
        if not before.cancelled:
            book = await tx.load_book(deps.policy)
            staff.cancel_session(book, session_id, now)
            await _announce_session(tx, after, correlation_id, now)
            await commit_changes(tx, book, now)
    await publish(deps)
    return after


async def apply_programme(
    deps: Deps, programme: Programme, *, correlation_id: str
) -> dict[str, int]:
    """Bring a programme's sessions in line with a loaded file: add new ones, change differing ones."""
    async with deps.store.transaction(programme.id) as tx:
        known = await tx.sessions()
    new = [s for s in programme.sessions if s.id not in known]
    changed = [
        s
        for s in programme.sessions
        if s.id in known and not known[s.id].cancelled and s != known[s.id].session
    ]
    await add_sessions(deps, programme.id, new, correlation_id=correlation_id)
    for session in changed:
        await change_session(deps, programme.id, session, correlation_id=correlation_id)
    unchanged = len(programme.sessions) - len(new) - len(changed)
    return {"added": len(new), "changed": len(changed), "unchanged": unchanged}


def differences(before: Session, after: Session) -> tuple[str, ...]:
    """What an attendee must hear about: time, venue, online link, title, trainers."""
    checks = {
        "time": before.days != after.days or before.timezone != after.timezone,
        "venue": before.venue != after.venue,
        "online_url": before.online_url != after.online_url or before.mode != after.mode,
        "title": before.title != after.title,
        "trainers": before.trainers != after.trainers,
    }
    return tuple(change for change, differs in checks.items() if differs)


async def _stored(tx: ProgrammeTx, session_id: str) -> StoredSession:
    stored = (await tx.sessions()).get(session_id)
    if stored is None:
        raise UnknownSession(f"programme {tx.programme_id!r} has no session {session_id!r}")
    return stored


async def _announce_session(
    tx: ProgrammeTx, stored: StoredSession, correlation_id: str, now: datetime
) -> None:
    await tx.save_session(stored, now)
    event = announce.session_event(stored, correlation_id=correlation_id, now=now)
    await tx.enqueue(event, topic=topics.CATALOGUE, key=tx.programme_id)
    log.info(
        "session.published",
        session_id=stored.session.id,
        revision=stored.revision,
        status=stored.status,
    )
