"""Events published by the notifier: the outcome of every message it tried to deliver."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.envelope import Event

Channel = Literal["email", "sms"]
NotificationKind = Literal["invite", "update", "cancellation", "reminder", "offer", "waitlisted"]


class NotificationOutcomeV1(Event):
    """A notification was sent, deferred for a retry, or failed for good."""

    event_type: Literal["notification.outcome"] = "notification.outcome"
    event_version: Literal[1] = 1
    notification_key: str = Field(min_length=1, max_length=200)
    registration_id: UUID
    session_id: str | None = Field(description="None for a notice about the waitlist.")
    channel: Channel
    kind: NotificationKind
    status: Literal["sent", "deferred", "failed"]
    attempt: int = Field(ge=1)
    detail: str | None = Field(default=None, max_length=500)
