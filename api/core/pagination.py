"""The listing kit: one query model, one page schema, one keyset helper for every list route.

A listing declares its order once as a `KeysetOrder` whose last key is the row's primary key, so the
order is total and every page is stable. A page carries `next_cursor`, an opaque token naming the last
row's sort values; sending it back as `cursor` continues after that row, however many rows were inserted
or changed before it meanwhile (unlike `offset`, still accepted for the first pages of a small list).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import Session

from api.core.errors import Problem
from api.core.request_json import JsonLimits, load_json
from api.core.schemas import RequestModel

Item = TypeVar("Item")
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,1024}$"
CURSOR_LIMITS = JsonLimits(max_depth=4, max_string_length=1024)


class CursorInvalid(Problem):
    status, code, title = 422, "CURSOR_INVALID", "The cursor is not one this listing issued."


class PageQuery(RequestModel):
    """`limit`, and either `cursor` (from the previous page's `next_cursor`) or `offset`."""

    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10_000_000)
    cursor: str | None = Field(default=None, pattern=CURSOR_PATTERN, description="`next_cursor` of a page.")

    @model_validator(mode="after")
    def _cursor_or_offset(self) -> PageQuery:
        if self.cursor is not None and self.offset:
            raise ValueError("send either cursor or offset, not both")
        return self


class Page(BaseModel, Generic[Item]):
    count: int = Field(description="Rows matching the filters, over every page.")
    limit: int
    offset: int
    next_cursor: str | None = Field(description="Send as `cursor` for the next page; null on the last.")
    items: list[Item]


@dataclass(frozen=True)
class SortKey:
    column: ColumnElement[Any]
    descending: bool = False


@dataclass(frozen=True)
class KeysetOrder:
    """A listing's total order: `name` binds its cursors to it; the last key must be the primary key."""

    name: str
    keys: tuple[SortKey, ...]

    def order_by(self) -> list[ColumnElement[Any]]:
        return [key.column.desc() if key.descending else key.column.asc() for key in self.keys]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after the row whose sort values are `values` (sort keys are never null)."""
        branches = []
        for index, key in enumerate(self.keys):
            equal = [k.column == v for k, v in zip(self.keys[:index], values, strict=False)]
            beyond = key.column < values[index] if key.descending else key.column > values[index]
            branches.append(and_(*equal, beyond))
        return or_(*branches)

    def encode(self, values: Sequence[Any]) -> str:
        plain = [{"t": value.isoformat()} if isinstance(value, datetime) else value for value in values]
        raw = json.dumps({"o": self.name, "v": plain}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            document = load_json(raw, CURSOR_LIMITS, loc=("query", "cursor"))  # its values reach the SQL
            if document["o"] != self.name or len(document["v"]) != len(self.keys):
                raise ValueError("another listing's cursor")
            values = [datetime.fromisoformat(v["t"]) if isinstance(v, dict) else v for v in document["v"]]
        except (Problem, ValueError, KeyError, TypeError, binascii.Error) as error:
            raise CursorInvalid("The cursor is malformed or belongs to another listing.") from error
        if not all(_fits(key, value) for key, value in zip(self.keys, values, strict=True)):
            raise CursorInvalid("The cursor's values do not fit this listing's sort keys.")
        return values


def _fits(key: SortKey, value: Any) -> bool:
    expected = key.column.type.python_type
    if isinstance(value, bool) or not isinstance(value, expected):
        return False
    return not isinstance(value, datetime) or value.tzinfo is not None


def paginate(
    session: Session, statement: Select[Any], *, order: KeysetOrder, query: PageQuery
) -> tuple[list[Any], str | None]:
    """One page of `statement` (its selected columns, as rows) and the cursor of the next page."""
    width = len(statement.column_descriptions)
    labelled = [key.column.label(f"_sort_{index}") for index, key in enumerate(order.keys)]
    statement = statement.add_columns(*labelled).order_by(*order.order_by())
    if query.cursor is not None:
        statement = statement.where(order.after(order.decode(query.cursor)))
    rows = session.execute(statement.limit(query.limit + 1).offset(query.offset)).all()
    more, rows = len(rows) > query.limit, rows[: query.limit]
    next_cursor = order.encode(rows[-1][width:]) if more else None
    return [row[:width] for row in rows], next_cursor
