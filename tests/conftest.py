"""Fixtures shared by every test level: the real Kafka broker for integration and e2e tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _testcontainers_kafka() -> Iterator[str]:
    from testcontainers.kafka import KafkaContainer  # opt-in: needs a Docker engine

    with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
        yield container.get_bootstrap_server()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Kafka broker: $KAFKA_BOOTSTRAP_SERVERS, a testcontainer (TEST_KAFKA=testcontainers), or our own."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    if os.environ.get("TEST_KAFKA") == "testcontainers":
        yield from _testcontainers_kafka()
        return
    from deploy.kafka.launcher import LocalKafka

    with LocalKafka(tmp_path_factory.mktemp("kafka")) as kafka:
        yield kafka.bootstrap_servers


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder."""
    return REPO_ROOT
