"""Fold iCalendar lines at 75 octets without splitting a UTF-8 character or an escape.

icalendar 7.3 folds by octets and keeps most escapes whole, but it can still cut `\\\\`
(an escaped backslash) in two; unfolding restores it, yet some clients read it wrong.
So its output is unfolded and folded again here.
"""

from __future__ import annotations

import re

LIMIT = 75
CRLF = "\r\n"
# An escape (TEXT `\x`, RFC 6868 parameter `^x`) is one unit; so is any single character.
UNITS = re.compile(r"[\\^].|.", re.DOTALL)


def fold_line(line: str, limit: int = LIMIT) -> str:
    """Fold one unfolded content line; continuation lines start with a space."""
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


def refold(data: bytes) -> bytes:
    """Unfold a serialised calendar and fold every line again safely."""
    text = data.decode().replace(CRLF + " ", "").replace(CRLF + "\t", "")
    lines = [fold_line(line) for line in text.split(CRLF) if line]
    return (CRLF.join(lines) + CRLF).encode()
