"""The words of each message: templates per language, and dates as each language writes them."""

from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from services.notifier.ics import location_text
from services.notifier.notices import Notice
from services.notifier.schedule import LocalDay, local_days
from shared.contracts import Language, SessionSnapshot

TEMPLATES = Path(__file__).parent / "templates"
NO_ORGANIZER = Address(display_name="", addr_spec="noreply@invalid")
URL = re.compile(r"https?://[^\s<>\"]+")

WEEKDAYS: dict[Language, tuple[str, ...]] = {
    "sr-Latn": ("ponedeljak", "utorak", "sreda", "četvrtak", "petak", "subota", "nedelja"),
    "sr-Cyrl": ("понедељак", "уторак", "среда", "четвртак", "петак", "субота", "недеља"),
    "bs": ("ponedjeljak", "utorak", "srijeda", "četvrtak", "petak", "subota", "nedjelja"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,  # templates ship with the code: no stat() of the file at every message
)


def linkify(line: str) -> Markup:
    """Escape a line of text and turn its web addresses into links."""
    if "://" not in line:
        return escape(line)  # most lines hold no address
    pieces, last = [], 0
    for match in URL.finditer(line):
        pieces += [escape(line[last : match.start()]), _anchor(match.group())]
        last = match.end()
    pieces.append(escape(line[last:]))
    return Markup("").join(pieces)


def _anchor(url: str) -> Markup:
    return Markup('<a href="{0}">{0}</a>').format(url)


_environment.filters["linkify"] = linkify


def day_label(moment: datetime, language: Language) -> str:
    """Weekday and date as the language writes them, e.g. `sreda, 10. 6. 2026.`."""
    weekday = WEEKDAYS[language][moment.weekday()]
    if language == "en":
        return f"{weekday}, {moment.day} {EN_MONTHS[moment.month - 1]} {moment.year}"
    return f"{weekday}, {moment.day}. {moment.month}. {moment.year}."


def time_range(day: LocalDay) -> str:
    """Local start and end, joined by an en dash (09:30 to 16:30)."""
    return f"{day.starts_at:%H:%M}\N{EN DASH}{day.ends_at:%H:%M}"


def moment_label(moment: datetime, language: Language) -> str:
    """A day and a time, e.g. `sreda, 10. 6. 2026. 18:00`."""
    return f"{day_label(moment, language)} {moment:%H:%M}"


def context(notice: Notice, organizer: Address, links: dict[str, str]) -> dict[str, Any]:
    """Everything a template may show; personal links only in `links` (never in the calendar)."""
    common = {
        "kind": notice.kind,
        "trainer": notice.recipient.role == "trainer",
        "name": notice.recipient.full_name,
        "organizer_name": organizer.display_name,
        "organizer_email": organizer.addr_spec,
        "links": {"accept": None, "decline": None, "cancel": None, "leave": None} | links,
    }
    if notice.session is None:
        return common | _waitlist_context(notice)
    return common | _session_context(notice, notice.session)


def _waitlist_context(notice: Notice) -> dict[str, Any]:
    """A notice about the waitlist: the programme and the place in the queue, no session."""
    return {
        "programme": notice.programme_title,
        "position": notice.position,
        "title": notice.programme_title or "",
        "days": [],
    }


def _session_context(notice: Notice, session: SessionSnapshot) -> dict[str, Any]:
    """A notice about a session: its title, days, place and trainers, in the recipient's words."""
    language = notice.recipient.language
    days = [
        {"date": day_label(day.starts_at, language), "times": time_range(day)}
        for day in local_days(session)
    ]
    zone = ZoneInfo(session.timezone)
    deadline = notice.expires_at.astimezone(zone) if notice.expires_at else None
    return {
        "title": session.title,
        "days": days,
        "zone": session.timezone,
        "deadline": moment_label(deadline, language) if deadline else None,
        "online": session.mode == "online",
        "location": location_text(session),
        "trainers": [t.full_name for t in session.trainers],
    }


def render(language: Language, template: str, values: dict[str, Any]) -> str:
    """Render `templates/<language>/<template>`."""
    return _environment.get_template(f"{language}/{template}").render(values)


def html_of(language: Language, text: str) -> str:
    """The HTML alternative: the same words as the text body, paragraph by paragraph."""
    paragraphs = [block.splitlines() for block in text.strip().split("\n\n") if block.strip()]
    template = _environment.get_template("body.html.j2")
    return template.render(language=language, paragraphs=paragraphs)
