"""Each fault module gets its own broker, SMTP server and services: faults must not leak."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.kafka.launcher import LocalKafka
from tests.faults.harness import World, running_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Iterator[World]:
    """The whole system on a broker this module may restart, pause or kill."""
    tmp = tmp_path_factory.mktemp("faults")
    with running_world(tmp, repo_root, LocalKafka(tmp / "kafka")) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_scenario(request: pytest.FixtureRequest) -> None:
    """Each test checks its own registrations; the topics, seats and consumer lag stay global."""
    if "world" in request.fixturenames:
        running: World = request.getfixturevalue("world")
        running.accepted.clear()
        running.server_errors.clear()
        running.refused_invites.clear()
