"""Signed personal links (cancel, answer an offer, leave the waitlist): unguessable, expiring, tamper-proof."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from itsdangerous import BadSignature, URLSafeSerializer

LinkAction = Literal["cancel", "accept-offer", "decline-offer", "leave-waitlist"]
SALT = "trainingops.personal-link.v1"


class InvalidLink(ValueError):
    """The link was tampered with, signed with another key, or has expired."""


@dataclass(frozen=True)
class LinkClaim:
    """What a personal link lets its holder do, and until when."""

    registration_id: UUID
    action: LinkAction
    expires_at: datetime
    session_id: str | None = None
    revision: int | None = None


class LinkSigner:
    """Signs and verifies personal links with a secret shared by the services that make and read them."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the link signing secret must be at least 16 characters")
        self._serializer = URLSafeSerializer(secret, salt=SALT)

    def sign(self, claim: LinkClaim) -> str:
        """Return a URL-safe token carrying `claim`."""
        return self._serializer.dumps(
            [
                str(claim.registration_id),
                claim.action,
                claim.expires_at.isoformat(),
                claim.session_id,
                claim.revision,
            ]
        )

    def verify(self, token: str, *, now: datetime) -> LinkClaim:
        """Return the claim of a genuine, unexpired token, or raise InvalidLink."""
        try:
            registration_id, action, expires_at, session_id, revision = self._serializer.loads(
                token
            )
            claim = LinkClaim(
                UUID(registration_id),
                action,
                datetime.fromisoformat(expires_at),
                session_id,
                revision,
            )
        except (BadSignature, ValueError, TypeError) as error:
            raise InvalidLink("invalid link") from error
        if claim.expires_at <= now:
            raise InvalidLink("this link has expired")
        return claim
