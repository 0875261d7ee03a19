"""Money for people: integer minor units shown in major units with their currency, exactly.

Amounts are integers of minor units everywhere (`*_cents`); this is only how a table or a page shows one.
The number of minor-unit digits is ISO 4217's: 2 unless listed here. No float is ever involved.
"""

from __future__ import annotations

# ISO 4217 currencies whose minor unit is not 1/100 (the ones a payout rail may plausibly carry).
MINOR_UNIT_DIGITS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),  # fmt: skip
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}


def minor_unit_digits(currency: str) -> int:
    return MINOR_UNIT_DIGITS.get(currency.upper(), 2)


def major_units(amount_minor: int, currency: str) -> str:
    """`123456, "EUR"` -> `"1,234.56 EUR"`; `-5, "USD"` -> `"-0.05 USD"`; `1000, "JPY"` -> `"1,000 JPY"`."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"minor units are an int, not {type(amount_minor).__name__}")
    digits = minor_unit_digits(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    text = f"{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
    return f"{sign}{text} {currency.upper()}"
