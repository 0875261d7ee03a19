"""Typing the rows the pipeline publishes: plain dicts from a warehouse query (DuckDB or Postgres, maybe
through pandas), checked column by column before any of them reaches the API database.

A publish function declares its mart's columns once as a `RowShape` and calls `typed_row`; a row that
does not fit is a ValueError naming the row and the column, raised before the database is opened.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class RowShape:
    required_text: tuple[str, ...] = ()
    optional_text: tuple[str, ...] = ()
    required_int: tuple[str, ...] = ()
    optional_int: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required_text + self.optional_text + self.required_int + self.optional_int

    @cached_property
    def _kinds(self) -> tuple[tuple[str, bool, bool], ...]:
        """(column, required, integer) for each column, in `columns` order."""
        required, integer = (
            {*self.required_text, *self.required_int},
            {*self.required_int, *self.optional_int},
        )
        return tuple((column, column in required, column in integer) for column in self.columns)


def is_null(value: Any) -> bool:
    # None, NaN, and pandas' NA / NaT (recognised by type name: the API does not import pandas).
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and math.isnan(value)


def as_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise ValueError(f"{where} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    as_float = float(value)  # type: ignore[arg-type]
    if not as_float.is_integer():
        raise ValueError(f"{where} must be an integer, got {value!r}")
    return int(as_float)


def typed_row(
    row: Mapping[str, Any], shape: RowShape, index: int = 0, *, what: str = "row"
) -> dict[str, Any]:
    """The shape's columns of one row, typed (other columns are ignored); errors say `<what> <index>`.
    Called for every published row (tens of thousands a run): a plain `str` or `int` in its place is
    taken as it is, anything else is looked at closely."""
    clean: dict[str, Any] = {}
    for column, required, integer in shape._kinds:
        value = row.get(column)
        if type(value) is (int if integer else str):
            clean[column] = value
            continue
        where = f"{what} {index}: {column}"
        if is_null(value):
            if required:
                raise ValueError(f"{where} is required")
            clean[column] = None
        elif integer:
            clean[column] = as_int(value, where)
        elif isinstance(value, str):
            clean[column] = value
        else:
            raise ValueError(f"{where} must be text, got {value!r}")
    return clean


def utc_instant(published_at: datetime) -> datetime:
    """`published_at` in UTC; a naive instant is refused (every timestamp in Settld says it is UTC)."""
    if published_at.tzinfo is None:
        raise ValueError("published_at must be timezone-aware (UTC)")
    return published_at.astimezone(UTC)
