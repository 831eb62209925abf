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
CRLF = b"\r\n"
# An escape (TEXT `\x`, RFC 6868 parameter `^x`) is one unit, as is any character: in UTF-8 an
# ASCII byte or a lead byte with its continuation bytes. Neither `\` nor `^` is ever part of a
# multi-byte character, so scanning the bytes finds the escapes a scan of the text would.
ESCAPE = re.compile(rb"[\\^](?:[\x00-\x7f]|[\xc0-\xff][\x80-\xbf]*)")


def fold(line: bytes, limit: int = LIMIT) -> bytes:
    """Fold one unfolded UTF-8 content line; continuation lines start with a space.

    Each physical line ends at the last unit boundary within its octets.
    """
    if len(line) <= limit:
        return line  # most lines fit: nothing to cut
    inside = {i for m in ESCAPE.finditer(line) for i in range(m.start() + 1, m.end())}
    parts, start, room = [], 0, limit
    while len(line) - start > room:
        cut = start + room
        while cut in inside or 0x80 <= line[cut] < 0xC0:  # inside an escape or a character
            cut -= 1
        parts.append(line[start:cut])
        start, room = cut, limit - 1  # a continuation line starts with a space
    parts.append(line[start:])
    return b"\r\n ".join(parts)


def fold_lines(lines: Iterable[str]) -> bytes:
    """Unfolded content lines as folded, CRLF-terminated bytes (empty lines dropped)."""
    return b"".join(fold(line.encode()) + CRLF for line in lines if line)


def serialise(component: icalendar.cal.component.Component) -> bytes:
    """A component with its subcomponents, folded safely (what `to_ical()` gives, refolded)."""
    return fold_lines(component.content_lines())
