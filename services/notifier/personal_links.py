"""Personal links for the email body (never the calendar): cancel, answer an offer, leave the waitlist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.notifier.notices import Notice
from shared.links import LinkAction, LinkClaim, LinkSigner


@dataclass(frozen=True)
class LinkMaker:
    """Signs claims and turns them into `{base_url}/r/{token}` addresses."""

    signer: LinkSigner
    base_url: str

    def links_for(self, notice: Notice) -> dict[str, str]:
        """The links a notice's body offers: none to trainers or after a cancellation."""
        if notice.recipient.role != "registrant":
            return {}
        if notice.kind == "offer" and notice.expires_at is not None:
            return {
                "accept": self._url(notice, "accept-offer"),
                "decline": self._url(notice, "decline-offer"),
            }
        if notice.kind in ("invite", "update", "reminder"):
            return {"cancel": self._url(notice, "cancel")}
        if notice.kind == "waitlisted" and notice.expires_at is not None:
            return {"leave": self._waitlist_url(notice, notice.expires_at)}
        return {}

    def _url(self, notice: Notice, action: LinkAction) -> str:
        session = notice.required_session
        starts_at = min(day.starts_at for day in session.days)
        claim = LinkClaim(
            registration_id=notice.recipient_id,
            action=action,
            expires_at=notice.expires_at if action != "cancel" and notice.expires_at else starts_at,
            session_id=session.session_id,
            revision=notice.revision,
        )
        return self._address(claim)

    def _waitlist_url(self, notice: Notice, expires_at: datetime) -> str:
        claim = LinkClaim(
            registration_id=notice.recipient_id,
            action="leave-waitlist",
            expires_at=expires_at,
            revision=notice.revision,
        )
        return self._address(claim)

    def _address(self, claim: LinkClaim) -> str:
        return f"{self.base_url.rstrip('/')}/r/{self.signer.sign(claim)}"
