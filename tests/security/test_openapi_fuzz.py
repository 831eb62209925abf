"""Fuzz the registration API from its own OpenAPI document (schemathesis): no answer is a 5xx."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from faststream.kafka import TestKafkaBroker
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from deploy.ports import free_port
from services.registration.main import create_app
from services.registration.settings import RegistrationSettings
from shared.kafka import make_broker
from tests.security.conftest import STAFF_TOKEN

pytestmark = pytest.mark.security
REPO = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 40


def serve_forever(app: Any, broker: Any, server: uvicorn.Server) -> None:
    """Run the app over HTTP in this thread's own event loop, its broker in memory."""

    async def main() -> None:
        async with TestKafkaBroker(broker):
            await server.serve()

    asyncio.run(main())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """The registration app on loopback (in this process, broker in memory): URL and OpenAPI."""
    settings = RegistrationSettings(
        data_dir=tmp_path_factory.mktemp("fuzz"),
        catalogue_path=REPO / "deploy/seed/programmes.yaml",
        staff_api_tokens=STAFF_TOKEN,
        link_signing_secret="fuzz-link-secret-0123456789abcdef",
    )
    broker = make_broker("localhost:9092", client_id="fuzz")
    app = create_app(settings, broker=broker, provision_topics=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=serve_forever, args=(app, broker, server), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the app stopped while starting"
        assert time.monotonic() < deadline, "the app did not start in time"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    yield url, httpx.get(f"{url}/openapi.json").json()
    server.should_exit = True
    thread.join(15)


FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def fuzz_operation(operation: Any, base_url: str, headers: dict[str, str]) -> str | None:
    """Run generated requests against one operation; describe the first 5xx, if any."""

    @FUZZ
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=[not_a_server_error])

    try:
        run()
    except Exception as error:  # schemathesis reports a failing check as an exception group
        return f"{operation.label}: {type(error).__name__}: {str(error)[:300]}"
    return None


def fuzz_all(served: tuple[str, dict[str, Any]], headers: dict[str, str]) -> list[str]:
    """Fuzz every operation of the document; return the failures."""
    base_url, spec = served
    operations = [
        result.ok() for result in schemathesis.openapi.from_dict(spec).get_all_operations()
    ]
    assert operations, "the OpenAPI document has operations"
    return [f for op in operations if (f := fuzz_operation(op, base_url, headers))]


def test_anonymous_requests_get_no_server_error(served: tuple[str, dict[str, Any]]) -> None:
    assert fuzz_all(served, {}) == []


def test_staff_requests_get_no_server_error(served: tuple[str, dict[str, Any]]) -> None:
    assert fuzz_all(served, {"Authorization": f"Bearer {STAFF_TOKEN}"}) == []
