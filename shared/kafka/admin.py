"""Create the system's topics if they do not exist yet (idempotent, safe to run at every start)."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.topics import ALL_TOPICS, TopicSpec


async def ensure_topics(
    bootstrap_servers: str, specs: tuple[TopicSpec, ...] = ALL_TOPICS, *, attempts: int = 30
) -> None:
    """Create missing topics, retrying while the broker is still starting."""
    for attempt in range(1, attempts + 1):
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","))
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(s.name, num_partitions=s.partitions, replication_factor=1)
                for s in specs
                if s.name not in existing
            ]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):  # another service was faster
                    await admin.create_topics(missing)
            return
        except KafkaError:
            if attempt == attempts:
                raise
            await asyncio.sleep(min(2.0, 0.1 * attempt))
        finally:
            await admin.close()
