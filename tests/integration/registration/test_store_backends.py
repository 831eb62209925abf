"""The registration service's storage on every backend: SQLite and a real PostgreSQL 15."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from services.registration.catalogue_store import PublishedSessions
from services.registration.catalogue_view import CatalogueView
from services.registration.idempotency import IdempotencyKeys, KeyReused
from services.registration.link_uses import LinkUses
from services.registration.schemas import RegistrationStatus
from services.registration.store import RegistrationStore
from shared.catalogue import load_catalogue
from shared.contracts import Registrant, RegistrationSubmittedV1, SessionPublishedV1, envelope
from shared.db import create_engine

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2027, 5, 1, 9, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same tests on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'registration.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def submitted(email: str, *, sms: bool, at: datetime = NOW) -> RegistrationSubmittedV1:
    registrant = Registrant(
        full_name="Ana Primer",
        email=email,
        phone="+381641234567",
        organisation="Opština Primer",
        language="bs",
        consent_sms=sms,
    )
    return RegistrationSubmittedV1(
        **envelope(producer="registration", correlation_id="c", now=at),
        registration_id=uuid4(),
        programme_id="social-networks-lsg",
        registrant=registrant,
        preferences=("sn-training-1",),
        unavailable_dates=(date(2027, 6, 9),),
    )


async def test_registrations_listing_erasure_budget_and_purge(engine_url: str) -> None:
    engine = create_engine(engine_url)
    store = RegistrationStore(engine)
    try:
        await store.create_tables()
        first, second = submitted("a@example.org", sms=True), submitted("b@example.org", sms=True)
        old = submitted("c@example.org", sms=True, at=NOW - timedelta(days=1))
        for event in (old, first, second, first):
            await store.record_submitted(event)
        assert await store.sms_consents_since(NOW.replace(hour=0)) == 2
        people = await store.list_people("social-networks-lsg")
        assert [p.email for p in people] == ["c@example.org", "a@example.org", "b@example.org"]
        assert people[1].unavailable_dates == [date(2027, 6, 9)]
        keys = IdempotencyKeys(engine)
        await keys.remember("form-1", "digest", first.registration_id, NOW)
        await keys.remember("form-2", "digest", second.registration_id, NOW)
        await store.erase(first.registration_id, NOW)
        assert await store.exists(first.registration_id) is False
        assert await keys.recall("form-1", "digest") is None, "the request digest is erased too"
        assert (await store.status(first.registration_id)) is not None
        assert len(await store.list_people(None)) == 2
        await store.purge(await store.ids_of_programme("social-networks-lsg"))
        assert await store.list_people(None) == []
        assert await keys.recall("form-2", "digest") is None
    finally:
        await engine.dispose()


async def test_keys_link_uses_and_published_sessions(engine_url: str) -> None:
    engine = create_engine(engine_url)
    store = RegistrationStore(engine)
    try:
        await store.create_tables()
        keys, uses, sessions = IdempotencyKeys(engine), LinkUses(engine), PublishedSessions(engine)
        registration_id, event_id = uuid4(), uuid4()
        await keys.remember("k", "digest", registration_id, NOW)
        assert await keys.recall("k", "digest") == registration_id
        with pytest.raises(KeyReused):
            await keys.recall("k", "other")
        await uses.record(event_id, registration_id, "cancel", NOW)
        await uses.record(event_id, registration_id, "cancel", NOW)  # a concurrent duplicate
        assert await uses.used(event_id)
        catalogue = load_catalogue(REPO / "deploy/seed/programmes.yaml")
        snapshot = catalogue.programme("social-networks-lsg").session("sn-training-2").snapshot()
        cancelled = SessionPublishedV1(
            **envelope(producer="scheduler", correlation_id="c", now=NOW),
            session=snapshot,
            capacity=24,
            status="cancelled",
            revision=2,
        )
        await sessions.save(cancelled)
        view = CatalogueView(catalogue)
        await sessions.replay(view)
        assert view.cancelled == {"sn-training-2"}
    finally:
        await engine.dispose()


async def test_the_api_and_the_placement_consumer_may_create_the_same_record_at_once(
    engine_url: str,
) -> None:
    engine = create_engine(engine_url)
    store = RegistrationStore(engine)
    try:
        await store.create_tables()
        for _ in range(10):
            event = submitted(f"{uuid4().hex[:8]}@example.org", sms=False)
            assigned = RegistrationStatus(
                registration_id=event.registration_id,
                programme_id=event.programme_id,
                status="assigned",
                session_id="sn-training-1",
                reason="1st choice",
                revision=1,
                updated_at=NOW,
            )
            await asyncio.gather(store.record_submitted(event), store.record_status(assigned))
            row = await store.row(event.registration_id)
            assert row is not None
            assert row.status == "assigned"
            assert row.email == event.registrant.email
    finally:
        await engine.dispose()
