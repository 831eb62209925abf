"""Drive registrations into the API and follow the scheduler's decisions on placements.v1."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.catalogue import PROGRAMME
from shared import topics


def registrant(run: str, index: int) -> dict[str, Any]:
    """A distinct registrant: unique email and organisation, no preferences."""
    return {
        "programme_id": PROGRAMME,
        "full_name": f"Bench Participant {index}",
        "email": f"{run}-{index}@bench.example",
        "organisation": f"Municipality {run} {index}",
        "consent_email": True,
    }


@dataclass
class Submitted:
    """When each registration was posted, and what the API answered on the way."""

    posted_at: dict[str, float] = field(default_factory=dict)  # email -> perf_counter
    accepted_at: dict[str, float] = field(default_factory=dict)  # email -> when the 202 came
    registration_ids: dict[str, str] = field(default_factory=dict)  # email -> the id it answered
    retries: int = 0
    failures: int = 0


async def post_one(client: aiohttp.ClientSession, body: dict[str, Any], out: Submitted) -> None:
    """POST until 202 (retrying 429/503 and transport errors, counted), at most 60 s."""
    started = time.perf_counter()
    while time.perf_counter() - started < 60:
        try:
            async with client.post("/registrations", json=body) as response:
                answer = await response.read()
                if response.status == 202:
                    email = body["email"]
                    out.posted_at[email], out.accepted_at[email] = started, time.perf_counter()
                    out.registration_ids[email] = json.loads(answer)["registration_id"]
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        out.retries += 1
        await asyncio.sleep(0.05)
    out.failures += 1


async def drive(
    api_url: str, bodies: list[dict[str, Any]], *, rate: float | None, workers: int
) -> Submitted:
    """Post every body: at a fixed `rate` per second (open loop), or as fast as `workers` allow."""
    out = Submitted()
    # aiohttp, not httpx: the client shares the 2 cores with the system under test, and costs
    # ~0.1 ms of CPU a request where httpx costs ~2 ms (measured on this machine).
    connector = aiohttp.TCPConnector(limit=workers)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(api_url, connector=connector, timeout=timeout) as client:
        if rate is None:
            queue = iter(bodies)

            async def worker() -> None:
                for body in queue:
                    await post_one(client, body, out)

            await asyncio.gather(*(worker() for _ in range(workers)))
            return out
        start = time.perf_counter()
        tasks = []
        for index, body in enumerate(bodies):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # the open-loop schedule, not a wait for a result
            tasks.append(asyncio.create_task(post_one(client, body, out)))
        await asyncio.gather(*tasks)
    return out


class DecisionTail:
    """Follows placements.v1 from the beginning: when was each registration decided, and how."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.decided_at: dict[str, float] = {}
        self.assigned: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start following in the background."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        partitions = [TopicPartition(topics.PLACEMENTS, p) for p in range(3)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._follow(consumer))

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                now = time.perf_counter()
                for record in (r for part in batch.values() for r in part):
                    self._note(json.loads(record.value), now)
        finally:
            await consumer.stop()

    def _note(self, event: dict[str, Any], now: float) -> None:
        if event.get("event_type") not in ("seat.assigned", "registration.waitlisted"):
            return
        registration_id = event["registration_id"]
        self.decided_at.setdefault(registration_id, now)
        if event["event_type"] == "seat.assigned":
            self.assigned.add(registration_id)

    async def stop(self) -> None:
        """Stop following."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def wait_for(predicate: Any, within_s: float, every_s: float = 0.1) -> bool:
    """Poll `predicate()` until true or the deadline passes; say which."""
    deadline = time.perf_counter() + within_s
    while not predicate():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(every_s)
    return True
