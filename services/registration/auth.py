"""Staff authentication: bearer tokens from STAFF_API_TOKENS, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False, description="A staff token from STAFF_API_TOKENS.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def token_matches(presented: str, tokens: tuple[str, ...]) -> bool:
    """Compare against every configured token without stopping early."""
    found = False
    for token in tokens:
        found |= hmac.compare_digest(presented.encode(), token.encode())
    return found


def is_staff(request: Request) -> bool:
    """Whether the request carries a valid staff bearer token."""
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    tokens: tuple[str, ...] = request.app.state.staff_tokens
    return scheme.lower() == "bearer" and bool(presented) and token_matches(presented, tokens)


async def require_staff(request: Request, credentials: Credentials) -> None:
    """Refuse the request with 401 unless it carries a valid staff token."""
    tokens: tuple[str, ...] = request.app.state.staff_tokens
    if credentials is None or not token_matches(credentials.credentials, tokens):
        raise HTTPException(
            status_code=401,
            detail="staff credentials required",
            headers={"WWW-Authenticate": "Bearer"},
        )
