"""The words of each message: templates per language, and dates as each language writes them."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifier.ics import location_text
from services.notifier.schedule import LocalDay, local_days
from shared.contracts import Language, SeatAssignedV1

TEMPLATES = Path(__file__).parent / "templates"

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
)


def day_label(moment: datetime, language: Language) -> str:
    """Weekday and date as the language writes them, e.g. `sreda, 10. 6. 2026.`."""
    weekday = WEEKDAYS[language][moment.weekday()]
    if language == "en":
        return f"{weekday}, {moment.day} {EN_MONTHS[moment.month - 1]} {moment.year}"
    return f"{weekday}, {moment.day}. {moment.month}. {moment.year}."


def time_range(day: LocalDay) -> str:
    """Local start and end, joined by an en dash (09:30 to 16:30)."""
    return f"{day.starts_at:%H:%M}\N{EN DASH}{day.ends_at:%H:%M}"


def context(event: SeatAssignedV1, organizer: Address) -> dict[str, Any]:
    """Everything a template may show: no personal link, no identifier."""
    session, language = event.session, event.attendee.language
    days = [
        {"date": day_label(day.starts_at, language), "times": time_range(day)}
        for day in local_days(session)
    ]
    return {
        "name": event.attendee.full_name,
        "title": session.title,
        "days": days,
        "zone": session.timezone,
        "online": session.mode == "online",
        "location": location_text(session),
        "trainers": [t.full_name for t in session.trainers],
        "organizer_name": organizer.display_name,
        "organizer_email": organizer.addr_spec,
    }


def render(language: Language, template: str, values: dict[str, Any]) -> str:
    """Render `templates/<language>/<template>`."""
    return _environment.get_template(f"{language}/{template}").render(values)
