"""The SMS gateway's inbound webhook: STOP / START replies become consent events."""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.registration.api import DepsParam, correlation_id
from services.registration.domain import normalise_phone, sms_consent_from_reply
from services.registration.handlers import publish_durably
from services.registration.schemas import ErrorBody
from shared import topics
from shared.contracts import SmsConsentChangedV1, envelope

log = structlog.stdlib.get_logger("registration")
router = APIRouter(tags=["webhooks"])


class InboundSms(BaseModel):
    """A reply a phone sent to our SMS number, as the gateway forwards it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    sender: str = Field(alias="from", max_length=32)
    text: str = Field(max_length=1600)

    @field_validator("sender")
    @classmethod
    def _e164(cls, value: str) -> str:
        return normalise_phone(value)


class ReplyHandled(BaseModel):
    """What the reply changed."""

    outcome: Literal["opted_out", "opted_in", "ignored"]


async def require_webhook_secret(
    request: Request, x_webhook_secret: Annotated[str | None, Header()] = None
) -> None:
    """Refuse the call with 401 unless it carries the shared secret (checked before the body)."""
    secret: str | None = request.app.state.sms_webhook_secret
    presented = x_webhook_secret
    if not secret or not presented or not hmac.compare_digest(presented.encode(), secret.encode()):
        raise HTTPException(status_code=401, detail="webhook secret required")


@router.post(
    "/webhooks/sms",
    status_code=202,
    response_model=ReplyHandled,
    responses={401: {"model": ErrorBody}, 422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    dependencies=[Depends(require_webhook_secret)],
    summary="Inbound SMS from the gateway (STOP / START)",
)
async def inbound_sms(
    reply: InboundSms,
    request: Request,
    deps: DepsParam,
) -> ReplyHandled:
    """Publish a consent change for STOP / START replies; other texts are acknowledged and ignored."""
    opted_in = sms_consent_from_reply(reply.text)
    if opted_in is None:
        log.info("sms.reply_ignored")
        return ReplyHandled(outcome="ignored")
    event = SmsConsentChangedV1(
        **envelope(
            producer="registration", correlation_id=correlation_id(request), now=deps.clock.now()
        ),
        phone=reply.sender,
        opted_in=opted_in,
        source="sms_reply",
    )
    await publish_durably(deps, event, key=reply.sender, topic=topics.CONSENTS)
    log.info("sms.consent_changed", event_id=str(event.event_id), opted_in=opted_in)
    return ReplyHandled(outcome="opted_in" if opted_in else "opted_out")
