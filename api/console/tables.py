"""The console's tables: the API's own query models read from the page's query string, and pagination by
the API's cursor with links both ways.

A keyset cursor only goes forward, so the way back is carried in the link itself: `trail` lists the
cursors of the pages before this one (oldest first, joined by `~`, which no cursor contains). "Previous"
pops the last one; "Next" pushes the current one. A trail longer than `TRAIL_LIMIT` forgets its oldest
pages (their "Previous" then leads to the first page), so a URL stays short whatever the walk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from pydantic import BaseModel, ValidationError

from api.core.errors import ValidationFailed
from api.core.pagination import CURSOR_PATTERN

TRAIL_SEPARATOR = "~"
TRAIL_LIMIT = 20


def validated(model: type[BaseModel], params: dict[str, Any]) -> Any:
    """`model` (the API route's own query or body model) from the form's values, or the API's 422."""
    try:
        return model.model_validate(params)
    except ValidationError as error:
        raise ValidationFailed(errors=[{"loc": list(map(str, e["loc"])), "msg": e["msg"], "type": e["type"]}
                                       for e in error.errors()]) from None  # fmt: skip


def params_of(request: Request, names: Iterable[str]) -> dict[str, str]:
    """The non-empty query parameters among `names` (an empty select means "all", not a value)."""
    return {name: request.query_params[name] for name in names if request.query_params.get(name)}


def url(base: str, **params: Any) -> str:
    kept = {name: value for name, value in params.items() if value not in (None, "")}
    return f"{base}?{urlencode(kept)}" if kept else base


def _trail(request: Request) -> list[str]:
    raw = request.query_params.get("trail", "")
    cursors = [part for part in raw.split(TRAIL_SEPARATOR) if part]
    return [c for c in cursors if re.match(CURSOR_PATTERN, c)][-TRAIL_LIMIT:]


@dataclass(frozen=True)
class Pager:
    """The links of one page of a listing: `kept` are its filters and sort (never the cursor)."""

    base: str
    kept: dict[str, Any]
    cursor: str | None
    trail: list[str]
    next_cursor: str | None

    def link(self, cursor: str | None, trail: list[str]) -> str:
        return url(self.base, **self.kept, cursor=cursor, trail=TRAIL_SEPARATOR.join(trail) or None)

    @property
    def next_url(self) -> str | None:
        if not self.next_cursor:
            return None
        trail = [*self.trail, self.cursor] if self.cursor else []
        return self.link(self.next_cursor, trail[-TRAIL_LIMIT:])

    @property
    def previous_url(self) -> str | None:
        if not self.cursor:
            return None
        return self.link(self.trail[-1] if self.trail else None, self.trail[:-1])

    @property
    def first_url(self) -> str | None:
        return self.link(None, []) if self.cursor else None

    def sorted_by(self, sort: str) -> str:
        """The first page of the same filters in another of the API's orders (a cursor is one order's)."""
        return url(self.base, **{**self.kept, "sort": sort})

    def here(self, **changes: Any) -> str:
        """This page with other parameters (a selected row, another sort...)."""
        trail = TRAIL_SEPARATOR.join(self.trail) or None
        return url(self.base, **{**self.kept, "cursor": self.cursor, "trail": trail, **changes})


def pager(
    request: Request, base: str, kept: dict[str, Any], cursor: str | None, next_cursor: str | None
) -> Pager:
    # A first page (no cursor) has no trail, whatever the URL says.
    return Pager(base, kept, cursor, _trail(request) if cursor else [], next_cursor)
