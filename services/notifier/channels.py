"""Turn a due notification into a message on its channel and hand it to the provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.notifier.messages import MailIdentity, compose_email
from services.notifier.personal_links import LinkMaker
from services.notifier.ports import Delivery, Mailer, PermanentDeliveryError, SmsSender
from services.notifier.sms_text import compose_sms


@dataclass(frozen=True)
class Channels:
    """Email and SMS, rendered from the notice at send time."""

    mailer: Mailer
    identity: MailIdentity
    links: LinkMaker
    sms: SmsSender | None = None
    sms_transliterate: bool = False
    sms_region: str = "RS"

    async def deliver(self, delivery: Delivery, now: datetime) -> str | None:
        """Send the notification (returning what to record about it) or raise a delivery error."""
        notice = delivery.notice
        if notice.channel == "email":
            links = self.links.links_for(notice)
            message = compose_email(notice, identity=self.identity, links=links, now=now)
            await self.mailer.send(message)
            return None
        if self.sms is None:
            raise PermanentDeliveryError("no SMS provider configured")
        sms = compose_sms(
            notice, reference=notice.key, gsm_only=self.sms_transliterate, region=self.sms_region
        )
        await self.sms.send(sms)
        return f"{sms.encoding}, {sms.segments} segment(s)"
