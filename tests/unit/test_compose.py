"""docker-compose.yml: Docker Compose accepts it, and it wires the services as the README says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SERVICES = {"kafka", "mailpit", "sms-sink", "registration", "scheduler", "notifier"}


def compose_available() -> str | None:
    """Why Docker Compose cannot be used here, or None when it can."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`docker compose version` failed: {(probe.stderr or probe.stdout).strip()}"
    return None


def compose_config() -> dict[str, Any]:
    done = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LINK_SIGNING_SECRET": "compose-config-check"},
    )
    return dict(json.loads(done.stdout))


@pytest.mark.docker
def test_docker_compose_accepts_the_file() -> None:
    reason = compose_available()
    if reason is not None:
        pytest.skip(reason)

    config = compose_config()

    assert set(config["services"]) >= SERVICES
    assert config["services"]["notifier"]["environment"]["SMTP_HOST"] == "mailpit"
    assert config["services"]["kafka"]["image"] == "apache/kafka:4.1.1"


@pytest.mark.unit
def test_services_wait_for_a_healthy_broker_and_share_settings() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]

    assert set(services) >= SERVICES
    assert "kafka-broker-api-versions.sh" in " ".join(services["kafka"]["healthcheck"]["test"])
    for name in ("registration", "scheduler", "notifier"):
        service = services[name]
        assert service["command"] == ["python", "-m", f"services.{name}"]
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert service["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert service["environment"]["DATA_DIR"] == "/data"
        assert service["environment"]["LINK_SIGNING_SECRET"].startswith("${LINK_SIGNING_SECRET:?")
    notifier_env = services["notifier"]["environment"]
    assert (notifier_env["SMTP_HOST"], notifier_env["SMTP_PORT"]) == ("mailpit", 1025)
    helper = services["notifier-dispatch"]
    assert helper["command"] == services["notifier"]["command"]
    assert helper["volumes"] == services["notifier"]["volumes"]  # the same SQLite store
    assert helper["environment"] == {
        **notifier_env,
        "DISPATCH_ONLY": "true",
        "DISPATCH_OVERDUE": "5",
    }
    assert "8000:8000" in services["registration"]["ports"]
