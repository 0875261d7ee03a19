"""Canonical JSON hashing and UTC periods: the conventions every artifact and digest relies on."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def canonical_json(value: Any) -> str:
    """Sorted keys, compact separators, UTF-8 text; NaN and Infinity are refused (they have no JSON form)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_members(value: dict[str, Any]) -> dict[str, str]:
    """Each member of an object as canonical JSON, for `canonical_object` to assemble."""
    return {key: canonical_json(member) for key, member in value.items()}


def canonical_object(members: dict[str, str]) -> str:
    """The text `canonical_json` gives for an object, from its members' canonical texts.

    A document hashed without some members and then written with them (a report and its hash) is thus
    encoded once: at a million mismatches, encoding the report twice cost more than building it."""
    return "{" + ",".join(f"{canonical_json(key)}:{members[key]}" for key in sorted(members)) + "}"


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def canonical_hash(value: Any) -> str:
    return sha256_hex(canonical_json(value))


def iso_micro(moment: datetime | None) -> str | None:
    """A naive UTC datetime as ISO-8601 with microseconds and 'Z' (None stays None)."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def parse_period(text: str) -> str:
    """Validate a `YYYY-MM` period (a UTC calendar month) and return it unchanged."""
    if not PERIOD_PATTERN.match(text or ""):
        raise ValueError(f"period must match YYYY-MM, got {text!r}")
    return text


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a period as aware UTC datetimes."""
    year, month = (int(part) for part in parse_period(period).split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def period_of(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every timestamp in Settld is UTC and must say so")
    return moment.astimezone(UTC).strftime("%Y-%m")


def next_period(period: str) -> str:
    return period_of(period_bounds(period)[1])


def previous_period(period: str) -> str:
    start, _ = period_bounds(period)
    year, month = start.year, start.month
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"


def atomic_write(path: Path, data: bytes) -> None:
    """Put `data` at `path` so that no reader, and no crash, ever sees half of it: written to a temporary
    file of its own beside the target (`.<name>.<random>.tmp`, so two writers never share one), flushed to
    disk, then renamed over the target, and the folder's entry flushed. A crash leaves the old file or the
    new one, and at worst a stray `.tmp` file no reader looks at (docs/DECISIONLOG.md, "Crash safety")."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
