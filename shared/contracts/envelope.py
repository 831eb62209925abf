"""The envelope every event carries: id, type, version, time, correlation id and producer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

CORRELATION_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


class Contract(BaseModel):
    """Base of every cross-service model: immutable, and no field that is not declared."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(Contract):
    """An event on Kafka; subclasses fix `event_type` and `event_version` as literals."""

    event_id: UUID
    event_type: str
    event_version: int
    occurred_at: AwareDatetime
    correlation_id: str = Field(pattern=CORRELATION_ID_PATTERN)
    producer: str = Field(min_length=1, max_length=64)

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


def envelope(
    *,
    producer: str,
    correlation_id: str,
    now: datetime,
    event_id: UUID | None = None,
) -> dict[str, Any]:
    """Build the envelope fields of a new event (pass `event_id` when it must be deterministic)."""
    return {
        "event_id": event_id or uuid4(),
        "occurred_at": now,
        "correlation_id": correlation_id,
        "producer": producer,
    }
