"""Reading fields of Stripe payloads, which may hold a value, an expanded object or nothing."""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def integer(value: Any) -> int | None:
    """An integer that is not a bool, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def reference_id(value: Any) -> str | None:
    """An id given either as a string or as an expanded object (`customer`, `source`, ...)."""
    return text(value.get("id")) if isinstance(value, dict) else text(value)


def metadata_tenant(value: Any) -> str | None:
    """`metadata.tenant_id` of an object, when it names one."""
    metadata = value.get("metadata") if isinstance(value, dict) else None
    return text(metadata.get("tenant_id")) if isinstance(metadata, dict) else None
