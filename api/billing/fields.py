"""Reading fields of Stripe payloads, which may hold a value, an expanded object or nothing, and making
what a hostile or broken payload holds storable (no NUL, no lone surrogate, no integer past BIGINT)."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_ID_LENGTH = 255  # the id and type columns
MAX_TENANT_LENGTH = 64
INT64 = range(-(2**63), 2**63)
# What neither Postgres text nor UTF-8 can hold: NUL and lone surrogates (json.loads makes them from \u escapes).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str, limit: int | None = None) -> str:
    """`value` as text every database stores: NUL and lone surrogates written as `\\uXXXX` escapes,
    then cut to `limit` characters."""
    escaped = _UNSTORABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", value)
    return escaped if limit is None else escaped[:limit]


def is_storable(value: str) -> bool:
    return _UNSTORABLE.search(value) is None


def storable_json(value: Any) -> str:
    """Canonical JSON (sorted keys, compact), UTF-8 text where that is storable; with ASCII escapes
    (`\\u0000`, `\\ud800`) when a string holds NUL or a lone surrogate, so the JSON stays exact."""
    dumped = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if is_storable(dumped):
        return dumped
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def text(value: Any) -> str | None:
    """A non-empty string that fits an id column and can be stored, else None."""
    if isinstance(value, str) and value and len(value) <= MAX_ID_LENGTH and is_storable(value):
        return value
    return None


def integer(value: Any) -> int | None:
    """An integer that is not a bool and fits BIGINT, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value in INT64 else None


def reference_id(value: Any) -> str | None:
    """An id given either as a string or as an expanded object (`customer`, `source`, ...)."""
    return text(value.get("id")) if isinstance(value, dict) else text(value)


def metadata_tenant(value: Any) -> str | None:
    """`metadata.tenant_id` of an object, when it names one."""
    metadata = value.get("metadata") if isinstance(value, dict) else None
    tenant = text(metadata.get("tenant_id")) if isinstance(metadata, dict) else None
    return tenant if tenant is not None and len(tenant) <= MAX_TENANT_LENGTH else None
