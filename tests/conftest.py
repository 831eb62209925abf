"""Fixtures shared by every test level: real Kafka brokers and a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parent.parent


def _testcontainers_kafka() -> Iterator[str]:
    from testcontainers.kafka import KafkaContainer  # opt-in: needs a Docker engine

    with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
        yield container.get_bootstrap_server()


def _real_kafka(data_dir: Path) -> Iterator[str]:
    """$KAFKA_BOOTSTRAP_SERVERS, a testcontainer (TEST_KAFKA=testcontainers), or our own broker."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    if os.environ.get("TEST_KAFKA") == "testcontainers":
        yield from _testcontainers_kafka()
        return
    from deploy.kafka.launcher import LocalKafka

    with LocalKafka(data_dir) as kafka:
        yield kafka.bootstrap_servers


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real broker for the session: use it only with your own (random) topic names."""
    yield from _real_kafka(tmp_path_factory.mktemp("kafka"))


@pytest.fixture(scope="module")
def service_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh real broker for one test module, for services that use the system's fixed topics."""
    yield from _real_kafka(tmp_path_factory.mktemp("service-kafka"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server: $TEST_DATABASE_URL's, or a throwaway local one (admin URL)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    from deploy.postgres.launcher import LocalPostgres

    with LocalPostgres() as server:
        yield server.admin_url


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A fresh, empty database on the real PostgreSQL server (SQLAlchemy asyncpg URL)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(postgres_server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(_asyncpg_dsn(postgres_server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder."""
    return REPO_ROOT
