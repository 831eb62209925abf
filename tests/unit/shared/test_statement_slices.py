"""Rows go to the database in slices of a few shapes: powers of two, largest first."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.db import statement_slices

pytestmark = pytest.mark.unit


@given(st.lists(st.integers(), max_size=1200), st.integers(min_value=1, max_value=600))
def test_slices_keep_every_row_in_order_in_power_of_two_sizes(
    rows: list[int], largest: int
) -> None:
    slices = list(statement_slices(rows, largest))
    assert [row for part in slices for row in part] == rows
    sizes = [len(part) for part in slices]
    assert all(size & (size - 1) == 0 and 0 < size <= largest for size in sizes)
    assert sizes == sorted(sizes, reverse=True)


def test_two_hundred_rows_take_three_statements() -> None:
    assert [len(part) for part in statement_slices(list(range(200)))] == [128, 64, 8]
