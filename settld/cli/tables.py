"""How the CLI shows tables and amounts: ids and paths never truncated or wrapped, money exact."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from settld.money import major_units, minor_unit_digits

# Free text (a meaning, a description) wraps at this width; every other column is as wide as its content.
WRAPPED_TEXT_WIDTH = 60


def table(title: str, *columns: str, wrap: tuple[str, ...] = (), right: tuple[str, ...] = ()) -> Table:
    """A table whose columns never wrap (ids, keys, codes, paths) except those in `wrap` (free text)."""
    shown = Table(title=title)
    for column in columns:
        shown.add_column(column, no_wrap=column not in wrap, justify="right" if column in right else "left",
                         max_width=WRAPPED_TEXT_WIDTH if column in wrap else None)  # fmt: skip
    return shown


def print_table(console: Console, shown: Table) -> None:
    """Print as wide as the table needs: a narrow terminal (or a pipe, which rich takes for 80 columns)
    wraps the line visually, but no id is cut or folded."""
    needed = Measurement.get(console, console.options.update(width=100_000), shown).maximum
    width = console.width
    console.width = max(width, needed)
    try:
        console.print(shown)
    finally:
        console.width = width


def print_json(value: Any) -> None:
    """JSON for scripts on stdout, exactly as given (no console markup, no wrapping)."""
    print(json.dumps(value, indent=2, default=str))


def amount(cents: int | None, currency: str | None) -> str:
    """Major units with the currency for a table cell; '' when there is no amount."""
    return major_units(int(cents), currency) if cents is not None and currency else ""


def decimal_amount(cents: int | None, currency: str | None) -> str | None:
    """Major units as an exact decimal string for JSON (`123456, "USD"` -> `"1234.56"`); None without one."""
    if cents is None or not currency:
        return None
    return str(Decimal(int(cents)).scaleb(-minor_unit_digits(currency)))
