"""Money in prose: the sign shows only where the rounded amount is not zero."""

from __future__ import annotations

import pytest

from experiments.formatting import money


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(-0.001, 2, "$0.00"), (-0.004, 2, "$0.00"), (-0.006, 2, "-$0.01"), (-0.4, 0, "$0"),
     (-1234.5, 2, "-$1,234.50"), (0.0, 2, "$0.00"), (12.345, 1, "$12.3")],
)
def test_money_has_no_negative_zero(value: float, digits: int, text: str) -> None:
    assert money(value, digits) == text
