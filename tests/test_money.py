"""Minor units shown in major units: exact, per currency, never through a float."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settld.money import major_units


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123456, "EUR", "1,234.56 EUR"),
        (-5, "usd", "-0.05 USD"),
        (0, "GBP", "0.00 GBP"),
        (1000, "JPY", "1,000 JPY"),
        (1234567, "KWD", "1,234.567 KWD"),
        (10**20 + 1, "USD", "1,000,000,000,000,000,000.01 USD"),
    ],
)
def test_known_amounts(amount: int, currency: str, shown: str) -> None:
    assert major_units(amount, currency) == shown


@given(st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_the_shown_amount_reads_back_to_the_same_minor_units(amount: int, currency: str) -> None:
    number = major_units(amount, currency).rsplit(" ", 1)[0].replace(",", "")
    whole, _, fraction = number.lstrip("-").partition(".")
    back = int(whole + fraction) * (-1 if number.startswith("-") else 1)
    assert back == amount


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        major_units(12.5, "EUR")  # type: ignore[arg-type]
