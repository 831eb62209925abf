"""The system under fault: our own broker, a controllable SMTP server, the services as processes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from deploy.kafka.launcher import LocalKafka
from deploy.local.stack import LocalStack, StackSettings
from deploy.ports import free_port
from shared.catalogue import load_catalogue
from tests.faults.observe import Downstream, consumer_lag, downstream
from tests.faults.smtp import ControlledSmtp

PROGRAMME = "social-networks-lsg"
SEATS_PER_SESSION = 12
# Many registrations come from one loopback address: lift the public form's abuse limits.
UNLIMITED = {
    "RATE_LIMIT_PER_ADDRESS": "1000000/minute",
    "RATE_LIMIT_PER_PERSON": "1000000/minute",
}


def small_catalogue(seed: Path, target: Path) -> dict[str, int]:
    """Copy the seed catalogue with few seats per session, so waitlisting happens; return capacities."""
    document = yaml.safe_load(seed.read_text(encoding="utf-8"))
    for programme in document["programmes"]:
        for session in programme["sessions"]:
            session["capacity"] = SEATS_PER_SESSION
    target.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    catalogue = load_catalogue(target)
    return {s.id: s.capacity for s in catalogue.programme(PROGRAMME).sessions}


@dataclass
class World:
    """Everything a fault scenario touches, and what it has accepted so far."""

    kafka: LocalKafka
    smtp: ControlledSmtp
    stack: LocalStack
    capacities: dict[str, int]
    bootstrap: str
    accepted: dict[str, str] = field(default_factory=dict)  # registration id -> email
    server_errors: list[str] = field(default_factory=list)  # answers other than 202, 429, 503
    refused_invites: set[str] = field(
        default_factory=set
    )  # emails whose message SMTP refused (5xx)

    def registrant(self, tag: str, index: int) -> dict[str, Any]:
        """A distinct registrant (fictional, unique email) for this scenario."""
        return {
            "programme_id": PROGRAMME,
            "full_name": f"Učesnik {tag} {index}",
            "email": f"{tag}-{index}-{uuid.uuid4().hex[:6]}@opstina-primer.example",
            "organisation": f"Opština {tag} {index}",  # one each: no per-municipality cap bites
            "language": "sr-Latn",
            "consent_email": True,
        }

    async def submit(self, registrants: list[dict[str, Any]], within_s: float = 90.0) -> None:
        """POST each registrant until accepted (retrying 503, 429 and refused connections)."""
        async with httpx.AsyncClient(base_url=self.stack.api_url, timeout=20) as client:
            limit = asyncio.Semaphore(8)

            async def one(body: dict[str, Any]) -> None:
                async with limit:
                    registration_id = await post_until_accepted(
                        client, body, within_s, self.server_errors
                    )
                self.accepted[registration_id] = body["email"].lower()

            await asyncio.gather(*(one(body) for body in registrants))


async def post_until_accepted(
    client: httpx.AsyncClient, body: dict[str, Any], within_s: float, errors: list[str]
) -> str:
    """Retry one registration until the API answers 202; the same person keeps the same id.

    503 (Kafka unavailable), 429 and refused connections are expected under faults; any other
    answer is kept in `errors` (and fails the scenario later) but retried, so the scenario runs on.
    """
    deadline = time.monotonic() + within_s
    while True:
        try:
            response = await client.post("/registrations", json=body)
            if response.status_code == 202:
                return str(response.json()["registration_id"])
            if response.status_code not in (429, 503):
                errors.append(f"{response.status_code} {response.text[:200]}")
        except httpx.TransportError:
            pass  # the service is down or restarting
        if time.monotonic() > deadline:
            raise AssertionError(f"registration not accepted within {within_s:.0f}s")
        await asyncio.sleep(0.2)


async def poll(check: Callable[[], Awaitable[str | None]], within_s: float) -> None:
    """Call `check` until it returns None (done) or the deadline passes (fail with its last word)."""
    deadline = time.monotonic() + within_s
    while (problem := await check()) is not None:
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled after {within_s:.0f}s: {problem}")
        await asyncio.sleep(0.5)


async def some_progress(world: World, decisions_before: int, within_s: float = 30.0) -> None:
    """Wait until the system has decided at least three more registrations."""

    async def check() -> str | None:
        decided = len((await downstream(world.bootstrap)).decision_ids)
        return None if decided >= decisions_before + 3 else f"{decided - decisions_before} decided"

    await poll(check, within_s)


async def settled(world: World, within_s: float = 60.0) -> Downstream:
    """Wait until every accepted registration is decided, every seat invited, and no lag remains."""
    seen = Downstream()

    async def check() -> str | None:
        nonlocal seen
        seen = await downstream(world.bootstrap)
        undecided = [r for r in world.accepted if r not in seen.decision_ids]
        if undecided:
            return f"{len(undecided)} of {len(world.accepted)} registrations without a decision"
        mailed = world.smtp.per_recipient()
        untold = [  # an invite to a seat, a notice to the waitlist: everyone hears once
            r
            for r, email in world.accepted.items()
            if not mailed[email]
            and not (email in world.refused_invites and seen.outcomes[(r, "failed")])
        ]
        if untold:
            return f"{len(untold)} decided registrants without their message"
        lag = {g: n for g, n in (await consumer_lag(world.bootstrap)).items() if n}
        return f"consumer lag {lag}" if lag else None

    await poll(check, within_s)
    return seen


def assert_exactly_once(world: World, seen: Downstream, *, crash_window: bool = False) -> None:
    """One decision per registration, no session over capacity, one message per decision:
    an invite per seat, a waitlist notice per waitlisted registrant."""
    assert not world.server_errors, f"unexpected answers from the API: {world.server_errors}"
    for registration_id in world.accepted:
        assert len(seen.decision_ids[registration_id]) == 1, f"{registration_id} decided twice"
    for session_id, taken in seen.assigned_per_session().items():
        assert taken <= world.capacities[session_id], f"{session_id}: {taken} seats taken"
    mailed = world.smtp.per_recipient()
    invites, notices = (world.smtp.per_recipient(calendar=c) for c in (True, False))
    seated = {world.accepted[r] for r in seen.seats if r in world.accepted}
    waiting = set(world.accepted.values()) - seated
    assert not any(invites[email] for email in waiting), "a waitlisted registrant got an invite"
    assert not any(notices[email] for email in seated), "a seated registrant was told to wait"
    assert not any(mailed[email] for email in world.refused_invites), "a refused message was resent"
    for email in (seated | waiting) - world.refused_invites:
        if crash_window:  # a resend after a crash carries the same Message-ID: clients merge it
            assert len(world.smtp.message_ids(email)) == 1, "one message sent as two"
        else:
            assert mailed[email] == 1, f"{mailed[email]} messages to one registrant"


@contextmanager
def running_world(tmp: Path, repo_root: Path, kafka: LocalKafka) -> Iterator[World]:
    """Start the broker, the SMTP server and the services; stop all of it afterwards."""
    capacities = small_catalogue(repo_root / "deploy/seed/programmes.yaml", tmp / "catalogue.yaml")
    smtp = ControlledSmtp(port=free_port())
    kafka.start()
    smtp.start()
    settings = StackSettings(
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        http_port=free_port(),
        sms_sink_port=free_port(),
        data_dir=tmp / "stack",
        catalogue_path=tmp / "catalogue.yaml",
    )
    stack = LocalStack(settings, extra_env={**UNLIMITED, "ADMIN_HTTP_PORT": str(free_port())})
    try:
        stack.start()
        yield World(kafka, smtp, stack, capacities, kafka.bootstrap_servers)
    finally:
        stack.stop()
        smtp.stop()
        kafka.stop()
