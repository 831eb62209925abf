"""GET /r/{token} shows what a personal link will do; POST performs it (no JavaScript needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.registration import handlers, personal_links
from services.registration.api import DepsParam, correlation_id
from services.registration.i18n import messages, pick_language
from services.registration.pages import message_page, render
from shared.catalogue import UnknownProgramme, UnknownSession
from shared.links import InvalidLink, LinkClaim, LinkSigner

router = APIRouter(include_in_schema=False)
EXPIRED = "this link has expired"


class LinkRefused(Exception):
    """The link cannot be used; carries the page that says why."""

    def __init__(self, page: HTMLResponse) -> None:
        super().__init__(page.status_code)
        self.page = page


def _claim(token: str, request: Request, deps: handlers.Deps) -> LinkClaim:
    language = pick_language(request.query_params.get("lang"))
    signer: LinkSigner | None = request.app.state.link_signer
    if signer is None:
        raise LinkRefused(message_page(language, "link.invalid", status=404))
    try:
        return signer.verify(token, now=deps.clock.now())
    except InvalidLink as error:
        expired = str(error) == EXPIRED
        key, status = ("link.expired", 410) if expired else ("link.invalid", 400)
        raise LinkRefused(message_page(language, key, status=status)) from None


async def _registration(claim: LinkClaim, request: Request, deps: handlers.Deps) -> tuple[str, str]:
    """The registrant's language and the programme of the link's registration, if it still fits."""
    try:
        row = await personal_links.registration_for(claim, deps)
    except personal_links.LinkNotUsable:
        language = pick_language(request.query_params.get("lang"))
        raise LinkRefused(message_page(language, "link.unknown", status=404)) from None
    try:
        personal_links.check_current(claim, row)
    except personal_links.LinkOutdated:
        page = message_page(pick_language(row.language), "link.outdated", status=409)
        raise LinkRefused(page) from None
    return row.language, row.programme_id


def _session_title(programme_id: str, session_id: str | None, deps: handlers.Deps) -> str:
    try:
        return deps.catalogue.programme(programme_id).session(session_id or "").title
    except (UnknownProgramme, UnknownSession):
        return session_id or ""


@router.get("/r/{token}", response_class=HTMLResponse)
async def confirm_link(token: str, request: Request, deps: DepsParam) -> HTMLResponse:
    """Ask the participant to confirm; a GET never changes anything (mail scanners open links)."""
    try:
        claim = _claim(token, request, deps)
        language, programme_id = await _registration(claim, request, deps)
    except LinkRefused as refused:
        return refused.page
    m = messages(pick_language(language))
    key = f"link.{claim.action}"
    return render(
        "link.html.j2",
        language=m.language,
        title=m(f"{key}.title"),
        body=m(f"{key}.body", session=_session_title(programme_id, claim.session_id, deps)),
        button=m(f"{key}.button"),
        action=f"/r/{token}",
    )


@router.post("/r/{token}", response_class=HTMLResponse)
async def use_link(token: str, request: Request, deps: DepsParam) -> HTMLResponse:
    """Perform the link's request once; clicking again shows that it was already received."""
    try:
        claim = _claim(token, request, deps)
        language, _ = await _registration(claim, request, deps)
        outcome = await personal_links.perform(
            claim, correlation_id=correlation_id(request), deps=deps
        )
    except LinkRefused as refused:
        return refused.page
    except personal_links.LinkNotUsable:
        return message_page("sr-Latn", "link.invalid", status=400)
    except personal_links.LinkOutdated:  # the status moved between the two checks
        return message_page(pick_language(language), "link.outdated", status=409)
    except handlers.KafkaUnavailable:
        retry = {"Retry-After": str(request.app.state.retry_after_s)}
        return message_page(pick_language(language), "busy", status=503, headers=retry)
    m = messages(pick_language(language))
    key = f"link.{claim.action}"
    body = m(f"{key}.done") if outcome == "done" else m("link.already")
    return render("link.html.j2", language=m.language, title=m(f"{key}.title"), body=body)
