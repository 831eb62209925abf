"""Fold iCalendar lines at 75 octets without splitting a UTF-8 character or an escape.

icalendar 7.3 folds by octets and keeps most escapes whole, but it can still cut `\\\\`
(an escaped backslash) in two; unfolding restores it, yet some clients read it wrong.
So components are serialised from icalendar's unfolded content lines and folded here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import icalendar

LIMIT = 75
CRLF = "\r\n"
# An escape (TEXT `\x`, RFC 6868 parameter `^x`) is one unit; so is any single character.
UNITS = re.compile(r"[\\^].|.", re.DOTALL)


def fold_line(line: str, limit: int = LIMIT) -> str:
    """Fold one unfolded content line; continuation lines start with a space."""
    if len(line) <= limit and (line.isascii() or len(line.encode()) <= limit):
        return line  # most lines fit: nothing to cut
    parts: list[str] = []
    current, size = "", 0
    for unit in UNITS.findall(line):
        width = len(unit.encode())
        if current and size + width > limit:
            parts.append(current)
            current, size = " ", 1
        current += unit
        size += width
    parts.append(current)
    return CRLF.join(parts)


def fold_lines(lines: Iterable[str]) -> bytes:
    """Unfolded content lines as folded, CRLF-terminated bytes (empty lines dropped)."""
    return "".join(fold_line(line) + CRLF for line in lines if line).encode()


def serialise(component: icalendar.cal.component.Component) -> bytes:
    """A component with its subcomponents, folded safely (what `to_ical()` gives, refolded)."""
    return fold_lines(component.content_lines())
