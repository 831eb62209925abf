"""Folding keeps every line within 75 octets and never cuts a character or an escape."""

from __future__ import annotations

import re

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.folding import fold, serialise
from tests.unit.notifier.conftest import refold

pytestmark = pytest.mark.unit

# Any text a field may carry: letters of every script, punctuation, escapes and newlines.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cc", "Cs")),
        st.sampled_from('\\;,:"^\nčćžšđЂЋЉЊЏ€😀'),
    ),
    max_size=400,
)


def calendar_of(summary: str) -> icalendar.Calendar:
    """One event with `summary` as its summary and location."""
    calendar = icalendar.Calendar()
    event = icalendar.Event()
    event.add("uid", "u@trainingops")
    event.add("summary", summary)
    event.add("location", summary)
    calendar.add_component(event)
    return calendar


def written(summary: str) -> bytes:
    """One event with `summary`, serialised from icalendar's content lines and folded by us."""
    return serialise(calendar_of(summary))


def physical_lines_are_safe(data: bytes) -> bool:
    """At most 75 octets each, valid UTF-8 each, and no escape cut by a fold."""
    escaped = False
    for line in data[:-2].split(b"\r\n"):
        text = line.decode("utf-8")
        if len(line) > 75 or (text.startswith(" ") and escaped):
            return False
        escaped = False
        for char in text.removeprefix(" "):
            escaped = not escaped and char == "\\"
    return True


def fold_line(line: str) -> str:
    """`fold` on text."""
    return fold(line.encode()).decode()


@given(TEXT)
def test_any_text_round_trips_as_one_event(summary: str) -> None:
    data = written(summary)
    events = icalendar.Calendar.from_ical(data).events
    assert len(events) == 1
    # icalendar 7 reads a literal `\N` as the line break RFC 5545 spells that way (documented in
    # its `_escape_char`), so that is the one change text may undergo.
    expected = summary.replace("\\N", "\n")
    assert str(events[0]["SUMMARY"]) == expected
    assert str(events[0]["LOCATION"]) == expected
    assert physical_lines_are_safe(data)


@given(TEXT)
def test_serialising_gives_the_bytes_of_icalendar_output_refolded(summary: str) -> None:
    calendar = calendar_of(summary)
    assert serialise(calendar) == refold(calendar.to_ical())


def test_lines_that_look_like_components_stay_text() -> None:
    summary = "a\nEND:VEVENT\nBEGIN:VALARM\nTRIGGER:-PT5M\nEND:VALARM\nb"
    events = icalendar.Calendar.from_ical(written(summary)).events
    assert len(events) == 1
    assert events[0].walk("VALARM") == []
    assert str(events[0]["SUMMARY"]) == summary


def test_fold_counts_octets_not_characters() -> None:
    folded = fold_line("SUMMARY:" + "č" * 100)
    lines = folded.encode().split(b"\r\n")
    assert [len(line) for line in lines] == [74, 75, 61]
    assert (
        "".join(line.removeprefix(" ") for line in folded.split("\r\n")) == "SUMMARY:" + "č" * 100
    )


UNITS = re.compile(r"[\\^].|.", re.DOTALL)  # an escape or a character: what a fold never cuts


def greedy_fold(line: str, limit: int = 75) -> str:
    """The plain statement of folding: unit by unit, a new line when the next one would not fit."""
    parts, current, size = [], "", 0
    for unit in UNITS.findall(line):
        width = len(unit.encode())
        if current and size + width > limit:
            parts.append(current)
            current, size = " ", 1
        current += unit
        size += width
    return "\r\n".join([*parts, current])


@given(TEXT.map(lambda text: "X-TEST;CN=" + text.replace("\n", "\\n")))
def test_folding_cuts_where_the_unit_by_unit_fold_cuts(line: str) -> None:
    assert fold_line(line) == greedy_fold(line)


def test_an_escape_is_never_cut() -> None:
    folded = fold_line("S:" + "x" * 72 + "\\\\y")
    assert folded == "S:" + "x" * 72 + "\r\n \\\\y"
