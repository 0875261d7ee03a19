"""The base of every request model, body or query: `RequestModel`.

A request model takes only the fields it declares (`extra="forbid"`: an unknown one is 422, never
ignored), and no text anywhere in it (a field, a list item, a mapping's key or value) may hold NUL or a
lone surrogate: Postgres cannot store NUL, nothing can encode a lone surrogate, and a model that let them
through would store them on SQLite and fail on Postgres. Write bodies meet the same rule earlier, in the
guarded parse (api/core/request_json.py); this one holds for every model, whatever route validates it.
tests/api/test_api_hostile_input.py checks that every route's body and query model derives from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from api.core.request_json import text_refusal


def _texts(value: Any) -> Iterator[str]:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple | set | frozenset):
            pending += list(item)


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        for text in _texts(value):
            if refusal := text_refusal(text):
                raise ValueError(refusal[1])
        return value
