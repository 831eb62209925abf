"""Events about a person's consent to be contacted on a channel."""

from __future__ import annotations

from typing import Literal

from shared.contracts.envelope import Event
from shared.contracts.people import E164


class SmsConsentChangedV1(Event):
    """A phone number opted out of SMS (STOP reply) or back in (START reply)."""

    event_type: Literal["consent.sms_changed"] = "consent.sms_changed"
    event_version: Literal[1] = 1
    phone: E164
    opted_in: bool
    source: Literal["sms_reply", "staff"]
