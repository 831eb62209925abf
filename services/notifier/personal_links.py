"""Personal links for the email body (never the calendar): cancel a seat, answer an offer."""

from __future__ import annotations

from dataclasses import dataclass

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
        return f"{self.base_url.rstrip('/')}/r/{self.signer.sign(claim)}"
