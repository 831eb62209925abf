"""Build brokers and subscribers that follow the delivery policy."""

from __future__ import annotations

from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from shared.kafka.delivery import DeliveryGuard
from shared.kafka.retry import RetryPolicy


def make_broker(
    bootstrap_servers: str,
    *,
    client_id: str,
    retry: RetryPolicy | None = None,
    guard: Any = None,
) -> KafkaBroker:
    """A broker whose producer waits for all in-sync replicas, idempotently, and whose consumers are guarded."""
    return KafkaBroker(
        bootstrap_servers.split(","),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[guard or DeliveryGuard.factory(retry)],
        logger=None,
        request_timeout_ms=15_000,
    )


def subscriber_options(group_id: str) -> dict[str, Any]:
    """Options every subscriber uses: a durable group, commit only after the handler succeeded."""
    return {
        "group_id": group_id,
        "auto_offset_reset": "earliest",
        # NACK_ON_ERROR: ack (commit) after success; on an escaped error seek back and redeliver.
        # Not ACK_FIRST (at-most-once) and not ACK (which commits failures too).
        "ack_policy": AckPolicy.NACK_ON_ERROR,
    }
