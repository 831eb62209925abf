"""The registration app on an in-memory broker, with a spy on what it publishes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from faststream.kafka import KafkaBroker, TestKafkaBroker

from deploy.ports import free_port
from services.registration.main import create_app
from services.registration.settings import RegistrationSettings
from shared import topics
from shared.clock import ManualClock
from shared.contracts import Event, RegistrationStreamEvent, SmsConsentChangedV1
from shared.kafka import make_broker

REPO = Path(__file__).resolve().parents[3]
STAFF_TOKEN = "staff-token-0123456789abcdef"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
LINK_SECRET = "link-secret-for-tests-0123456789"
FORM: dict[str, Any] = {
    "programme_id": "social-networks-lsg",
    "full_name": "Milica Primerović",
    "email": "Milica.Primerovic@Example.org",
    "phone": "064 123 4567",
    "organisation": "Opština Primer",
    "preferences": ["sn-training-2", "sn-training-3"],
}


@dataclass
class Registry:
    """A client on the app, its clock, and every event it published."""

    client: httpx.AsyncClient
    broker: KafkaBroker
    clock: ManualClock
    app: Any
    published: list[Event] = field(default_factory=list)

    def of(self, kind: type[Event]) -> list[Any]:
        """The published events of one type."""
        return [e for e in self.published if isinstance(e, kind)]


MakeRegistry = Callable[..., AbstractAsyncContextManager[Registry]]


@pytest.fixture
def make_registry(tmp_path: Path) -> MakeRegistry:
    """Build a registry app with settings overrides (environment names as keyword arguments)."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[Registry]:
        defaults: dict[str, Any] = {
            "data_dir": tmp_path,
            "catalogue_path": REPO / "deploy/seed/programmes.yaml",
            "staff_api_tokens": f"other-token-abcdefghijkl,{STAFF_TOKEN}",
            "link_signing_secret": LINK_SECRET,
        }
        settings = RegistrationSettings(**(defaults | overrides))
        broker = make_broker("localhost:9092", client_id="test")
        clock = ManualClock(datetime(2027, 5, 1, 9, tzinfo=UTC))
        app = create_app(settings, broker=broker, clock=clock, provision_topics=False)
        published: list[Event] = []

        @broker.subscriber(topics.REGISTRATIONS, group_id="spy")
        async def spy(event: RegistrationStreamEvent) -> None:
            published.append(event)

        @broker.subscriber(topics.CONSENTS, group_id="spy")
        async def spy_consents(event: SmsConsentChangedV1) -> None:
            published.append(event)

        async with TestKafkaBroker(broker), app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Registry(client, broker, clock, app, published)

    return build


@pytest.fixture
async def registry(make_registry: MakeRegistry) -> AsyncIterator[Registry]:
    """The app with default settings."""
    async with make_registry() as built:
        yield built


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an app over real HTTP in this event loop; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
            await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
