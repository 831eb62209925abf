"""Batched and single-statement writes of the registration store, on SQLite and PostgreSQL 15."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from services.registration.idempotency import IdempotencyKeys, KeyReused
from services.registration.schemas import RegistrationStatus
from services.registration.store import RegistrationStore
from services.registration.tables import RegistrationRow
from shared.contracts import Registrant, RegistrationSubmittedV1, envelope
from shared.db import create_engine

pytestmark = pytest.mark.integration
NOW = datetime(2027, 5, 1, 9, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same tests on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'registration.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def submitted(index: int, *, registration_id: object = None) -> RegistrationSubmittedV1:
    registrant = Registrant(
        full_name=f"Person {index}", email=f"p{index}@example.org", organisation="Opština Primer"
    )
    return RegistrationSubmittedV1(
        **envelope(producer="registration", correlation_id="c", now=NOW),
        registration_id=registration_id or uuid4(),
        programme_id="social-networks-lsg",
        registrant=registrant,
        preferences=("sn-training-1",),
    )


def decision(event: RegistrationSubmittedV1, revision: int, status: str) -> RegistrationStatus:
    return RegistrationStatus(
        registration_id=event.registration_id,
        programme_id=event.programme_id,
        status=status,  # type: ignore[arg-type]
        session_id="sn-training-1" if status == "assigned" else None,
        revision=revision,
        updated_at=NOW + timedelta(minutes=revision),
    )


async def count_rows(store: RegistrationStore) -> int:
    async with store.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(RegistrationRow)) or 0)


async def test_concurrent_submissions_are_each_stored_exactly_once(engine_url: str) -> None:
    store = RegistrationStore(create_engine(engine_url))
    try:
        await store.create_tables()
        events = [submitted(i) for i in range(300)]
        # every event twice, all at once: a redelivery or a double click must not double a row
        await asyncio.gather(*(store.record_submitted(e) for e in events + events))
        assert await count_rows(store) == 300
        for event in events[::37]:
            row = await store.row(event.registration_id)
            assert row is not None
            assert row.email == event.registrant.email
            assert row.preferences == ["sn-training-1"]
            assert row.status == "pending"
    finally:
        await store.engine.dispose()


async def test_a_batch_with_the_same_id_twice_keeps_the_last(engine_url: str) -> None:
    store = RegistrationStore(create_engine(engine_url))
    try:
        await store.create_tables()
        first = submitted(1)
        again = submitted(2, registration_id=first.registration_id)
        await store.record_submitted_many([first, again])
        row = await store.row(first.registration_id)
        assert row is not None
        assert row.email == "p2@example.org"
        assert await count_rows(store) == 1
    finally:
        await store.engine.dispose()


async def test_a_decision_before_the_submission_keeps_both(engine_url: str) -> None:
    store = RegistrationStore(create_engine(engine_url))
    try:
        await store.create_tables()
        event = submitted(1)
        await store.record_status(decision(event, 1, "assigned"))
        await store.record_submitted(event)
        row = await store.row(event.registration_id)
        assert row is not None
        assert (row.status, row.session_id, row.revision) == ("assigned", "sn-training-1", 1)
        assert row.email == "p1@example.org"
    finally:
        await store.engine.dispose()


async def test_an_older_decision_never_overwrites_a_newer_one(engine_url: str) -> None:
    store = RegistrationStore(create_engine(engine_url))
    try:
        await store.create_tables()
        event = submitted(1)
        await store.record_submitted(event)
        await store.record_status(decision(event, 2, "waitlisted"))
        await store.record_status(decision(event, 1, "assigned"))  # redelivered, older
        status = await store.status(event.registration_id)
        assert status is not None
        assert (status.status, status.revision) == ("waitlisted", 2)
        await store.record_status(decision(event, 3, "assigned"))
        status = await store.status(event.registration_id)
        assert status is not None
        assert (status.status, status.revision) == ("assigned", 3)
        assert status.updated_at == NOW + timedelta(minutes=3)
    finally:
        await store.engine.dispose()


async def test_concurrent_existence_checks_answer_each_id(engine_url: str) -> None:
    store = RegistrationStore(create_engine(engine_url))
    try:
        await store.create_tables()
        known, erased = [submitted(i) for i in range(20)], submitted(99)
        for event in (*known, erased):
            await store.record_submitted(event)
        await store.erase(erased.registration_id, NOW)
        placed_only = submitted(100)  # a decision arrived, the submission's row did not yet
        await store.record_status(decision(placed_only, 1, "assigned"))
        unknown = [uuid4() for _ in range(20)]
        asked = [e.registration_id for e in known] + unknown
        asked += [erased.registration_id, placed_only.registration_id, known[0].registration_id]
        answers = await asyncio.gather(*(store.exists(i) for i in asked))
        assert answers == [True] * 20 + [False] * 20 + [False, False, True]
    finally:
        await store.engine.dispose()


async def test_concurrent_idempotency_keys_keep_their_first_answer(engine_url: str) -> None:
    engine = create_engine(engine_url)
    try:
        await RegistrationStore(engine).create_tables()
        keys = IdempotencyKeys(engine)
        first = {f"key-{i}": uuid4() for i in range(100)}
        later = {key: uuid4() for key in first}
        writes = [keys.remember(k, "digest", r, NOW) for k, r in first.items()]
        writes += [keys.remember(k, "digest", r, NOW) for k, r in later.items()]
        await asyncio.gather(*writes)  # each key twice in flight at once: the first one stays
        answers = await asyncio.gather(*(keys.recall(k, "digest") for k in first))
        assert answers == list(first.values())
        assert await keys.recall("never-used", "digest") is None
        with pytest.raises(KeyReused):
            await keys.recall("key-7", "another request")
        await keys.remember("key-7", "digest", uuid4(), NOW)  # later, alone: still the first
        assert await keys.recall("key-7", "digest") == first["key-7"]
    finally:
        await engine.dispose()
