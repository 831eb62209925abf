"""Personal links verify only when genuine, unexpired and signed with the same secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from shared.links import InvalidLink, LinkClaim, LinkSigner

pytestmark = pytest.mark.unit

NOW = datetime(2027, 6, 1, 8, tzinfo=UTC)
SECRET = "a-long-enough-test-secret"


def claim(**overrides: object) -> LinkClaim:
    fields: dict[str, object] = {
        "registration_id": uuid4(),
        "action": "accept-offer",
        "expires_at": NOW + timedelta(hours=48),
        "session_id": "sn-training-2",
        "revision": 3,
    }
    return LinkClaim(**{**fields, **overrides})  # type: ignore[arg-type]


def test_round_trip() -> None:
    original = claim()
    assert LinkSigner(SECRET).verify(LinkSigner(SECRET).sign(original), now=NOW) == original


def test_tampered_or_foreign_tokens_are_refused() -> None:
    token = LinkSigner(SECRET).sign(claim())
    with pytest.raises(InvalidLink):
        LinkSigner(SECRET).verify(
            token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], now=NOW
        )
    with pytest.raises(InvalidLink):
        LinkSigner("another-secret-entirely").verify(token, now=NOW)
    with pytest.raises(InvalidLink):
        LinkSigner(SECRET).verify("not-a-token", now=NOW)


def test_expired_tokens_are_refused() -> None:
    token = LinkSigner(SECRET).sign(claim(expires_at=NOW))
    with pytest.raises(InvalidLink, match="expired"):
        LinkSigner(SECRET).verify(token, now=NOW)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        LinkSigner("short")
