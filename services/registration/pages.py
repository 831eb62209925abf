"""Render the HTML pages (Jinja2, autoescaped) in the visitor's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.registration.i18n import HTML_LANG, LANGUAGES, messages
from shared.contracts import Language

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["j2", "html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # templates ship with the code: no stat() of the file at every page
)


def language_links(path: str) -> list[tuple[str, str, str]]:
    """(code, name, href) to show the same page in every language."""
    return [
        (code, messages(code)("lang.name"), f"{path}?{urlencode({'lang': code})}")
        for code in LANGUAGES
    ]


def render(
    template: str,
    *,
    language: Language,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a page; `t` in the template is the language's message catalogue."""
    m = messages(language)
    context.setdefault("programme_title", "")
    context.setdefault("switch_links", [])
    html = TEMPLATES.get_template(template).render(
        t=m, language=language, html_lang=HTML_LANG[language], **context
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def message_page(
    language: Language, key: str, *, status: int, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """A page with a title and a paragraph from the catalogue (`key`.title, `key`.body)."""
    m = messages(language)
    return render(
        "message.html.j2",
        language=language,
        status=status,
        headers=headers,
        title=m(f"{key}.title"),
        body=m(f"{key}.body"),
    )
