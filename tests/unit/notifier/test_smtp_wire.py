"""The equivalents of aiosmtplib's regex passes give the library's own bytes, on any bytes."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.notifier.smtp_wire import (
    LIBRARY_LINE_ENDS,
    LIBRARY_LINE_START_DOT,
    LineStartDots,
    normalize_line_ends,
)

pytestmark = pytest.mark.unit
# Line ends and dots, the bytes both passes look at, among a few others.
MESSAGES = st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b".", b"..", b"a", b" ", b"\xc5"]))


@given(MESSAGES.map(b"".join))
@example(b"")
@example(b"a")
@example(b"a\r\nb\r\n")
@example(b"a\r\nb")
@example(b"a\n\r\n")
@example(b"a\r\r\n")
def test_line_ends_are_normalized_as_the_library_does(message: bytes) -> None:
    assert normalize_line_ends(message) == LIBRARY_LINE_ENDS(message)


@given(MESSAGES.map(b"".join))
@example(b".")
@example(b"..\r\n.\r\n")
@example(b"a\n.b\r.c\r\n.")
def test_line_start_dots_are_doubled_as_the_library_does(message: bytes) -> None:
    assert LineStartDots().sub(b"..", message) == LIBRARY_LINE_START_DOT.sub(b"..", message)


@given(MESSAGES.map(b"".join), st.integers(min_value=0, max_value=3))
def test_any_replacement_and_count_give_what_the_regex_gives(message: bytes, count: int) -> None:
    expected = LIBRARY_LINE_START_DOT.sub(b"=", message, count)
    assert LineStartDots().sub(b"=", message, count) == expected


def test_a_message_in_wire_form_is_returned_as_it_is() -> None:
    message = b"Subject: x\r\n\r\nbody\r\n"
    assert normalize_line_ends(message) is message
