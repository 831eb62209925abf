"""One running system for the security tests: real broker, the services as processes, SMTP capture."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from deploy.local.stack import LocalStack, StackSettings
from deploy.ports import free_port

STAFF_TOKEN = "security-suite-staff-token-0123456789"


@pytest.fixture(scope="package")
def admin_port() -> int:
    """Where the scheduler's admin API listens."""
    return free_port()


@pytest.fixture(scope="package")
def stack(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, admin_port: int
) -> Iterator[LocalStack]:
    """The whole system as `make run` starts it, on a broker of its own."""
    from deploy.kafka.launcher import LocalKafka

    tmp = tmp_path_factory.mktemp("security")
    with LocalKafka(tmp / "kafka") as kafka:
        settings = StackSettings(
            kafka_bootstrap_servers=kafka.bootstrap_servers,
            smtp_port=free_port(),
            http_port=free_port(),
            sms_sink_port=free_port(),
            data_dir=tmp / "stack",
            catalogue_path=repo_root / "deploy/seed/programmes.yaml",
        )
        extra = {
            "STAFF_API_TOKENS": STAFF_TOKEN,
            "ADMIN_HTTP_PORT": str(admin_port),
            "RATE_LIMIT_PER_ADDRESS": "100000/minute",
            "RATE_LIMIT_PER_PERSON": "100000/minute",
        }
        with LocalStack(settings, extra_env=extra) as running:
            yield running


def mail_to(mail_dir: Path, address: str, within_s: float = 30.0) -> list[EmailMessage]:
    """Poll the capture folder until a message to `address` is there; return all of them."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = []
        for path in sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []:
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if address.lower() in str(message["To"]).lower():
                found.append(message)
        if found:
            return found  # type: ignore[return-value]
        time.sleep(0.2)
    raise AssertionError("no message for the registrant arrived")
