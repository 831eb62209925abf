"""The public HTML form: GET shows it in a language, POST registers (works without JavaScript)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.registration import handlers
from services.registration.abuse import RateLimited
from services.registration.api import DepsParam, correlation_id
from services.registration.auth import is_staff
from services.registration.form import (
    ANCHORS,
    FormInvalid,
    field_labels,
    form_values,
    form_view,
    message_key,
    to_request,
)
from services.registration.i18n import LANGUAGES, messages, pick_language
from services.registration.pages import language_links, message_page, render
from shared.catalogue import Programme, UnknownProgramme
from shared.contracts import Language

router = APIRouter(include_in_schema=False)


def _form_page(
    programme: Programme,
    language: Language,
    deps: handlers.Deps,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    **response: Any,
) -> HTMLResponse:
    m = messages(language)
    now = deps.clock.now()
    view = form_view(programme, lambda session: deps.catalogue.is_open(session, now), m)
    notice = response.pop("notice", None)
    return render(
        "form.html.j2",
        language=language,
        **response,
        title=f"{m('form.title')} | {programme.title}",
        programme_title=programme.title,
        switch_links=language_links(f"/register/{programme.id}"),
        action=f"/register/{programme.id}?lang={language}",
        values=values,
        errors={field: m(key) for field, key in (errors or {}).items()},
        labels=field_labels(m),
        anchors=ANCHORS,
        notice={"title": m(f"{notice}.title"), "body": m(f"{notice}.body")} if notice else None,
        form_token=values.get("form_token") or secrets.token_urlsafe(16),
        sessions=view.sessions,
        dates=view.dates,
        choices=view.choices,
        language_choices=[(code, messages(code)("lang.name")) for code in LANGUAGES],
    )


def _programme(programme_id: str, deps: handlers.Deps) -> Programme | None:
    try:
        return deps.catalogue.programme(programme_id)
    except UnknownProgramme:
        return None


@router.get("/register/{programme_id}", response_class=HTMLResponse)
async def show_form(programme_id: str, deps: DepsParam, lang: str | None = None) -> HTMLResponse:
    """The empty form in the requested language (default Serbian, Latin script)."""
    language = pick_language(lang)
    programme = _programme(programme_id, deps)
    if programme is None:
        return message_page(language, "not_found", status=404)
    defaults: dict[str, Any] = {"language": language, "consent_email": True}
    return _form_page(programme, language, deps, defaults)


@router.post("/register/{programme_id}", response_class=HTMLResponse)
async def submit_form(
    programme_id: str, request: Request, deps: DepsParam, lang: str | None = None
) -> HTMLResponse:
    """Register from the form; on problems show the form again with the answers kept."""
    language = pick_language(lang)
    programme = _programme(programme_id, deps)
    if programme is None:
        return message_page(language, "not_found", status=404)
    values = form_values(list((await request.form()).multi_items()))
    try:
        await _register(programme.id, values, request, deps)
    except FormInvalid as error:
        return _form_page(programme, language, deps, values, error.problems, status=422)
    except handlers.FieldRejected as error:
        errors = {error.field.split(".")[0]: _rejection_key(error, values)}
        return _form_page(programme, language, deps, values, errors, status=422)
    except RateLimited as error:
        retry = {"Retry-After": str(error.retry_after_s)}
        return message_page(language, "too_many", status=429, headers=retry)
    except handlers.KafkaUnavailable:
        retry = {"Retry-After": str(request.app.state.retry_after_s)}
        return _form_page(
            programme, language, deps, values, notice="busy", status=503, headers=retry
        )
    return message_page(language, "thanks", status=200)


async def _register(
    programme_id: str, values: dict[str, Any], request: Request, deps: handlers.Deps
) -> None:
    trusted = is_staff(request)
    if not trusted:
        await deps.rate_limits.check_address(request.client.host if request.client else "unknown")
    registration = to_request(programme_id, values)
    await handlers.submit_with_key(
        registration,
        idempotency_key=values.get("form_token") or None,
        correlation_id=correlation_id(request),
        deps=deps,
        trusted=trusted,
    )


def _rejection_key(error: handlers.FieldRejected, values: dict[str, Any]) -> str:
    if error.field == "Idempotency-Key":
        values.pop("form_token", None)  # sent before with other answers: issue a new token
    return message_key(error.field, "rejected", str(error))
