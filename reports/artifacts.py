"""Content-addressed artifact files: canonical JSON whose hash is part of the name, plus retention.

The same content always lands at the same path with the same bytes, so writing is idempotent and a
rerun on the same inputs changes nothing on disk.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from settld.core import atomic_write, canonical_json


@dataclass(frozen=True)
class WrittenArtifact:
    path: Path
    created: bool  # False when the identical file was already there


def write_once(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly these bytes; returns whether it wrote.
    Atomic (settld.core.atomic_write): readers, and a run killed half-way, never see half a file."""
    if path.exists() and path.read_bytes() == data:
        # Produced again: its modification time says so, for retention and the gate, which take the
        # newest of documents that share an as-of by it (reports/artifacts.py `apply_retention`).
        os.utime(path)
        return False
    atomic_write(path, data)
    return True


def write_artifact(directory: Path, stem: str, content_hash: str, document: dict) -> WrittenArtifact:
    """Write `document` as canonical JSON to `directory/<stem>-<hash[:16]>.json` (once)."""
    return write_artifact_text(directory, stem, content_hash, canonical_json(document))


def write_artifact_text(directory: Path, stem: str, content_hash: str, text: str) -> WrittenArtifact:
    """As `write_artifact`, for a document already encoded as canonical JSON."""
    path = directory / f"{stem}-{content_hash[:16]}.json"
    created = write_once(path, (text + "\n").encode("utf-8"))
    return WrittenArtifact(path, created=created)


def apply_retention(directory: Path, stem: str, keep: int, *, order_key: str) -> list[Path]:
    """Keep the newest `keep` artifacts named `<stem>-*.json` in `directory`; return the removed ones.

    Newest means the largest value of the document's `order_key` (an ISO timestamp such as `asOf`), then
    the most recently written file, then the name, so the choice is deterministic.
    """
    if keep < 1:
        raise ValueError("retention must keep at least one artifact")
    paths = list(directory.glob(f"{stem}-{'?' * 16}.json"))
    if len(paths) <= keep:  # nothing to remove: spare reading every document
        return []
    candidates = []
    for path in paths:
        try:
            stamp = str(json.loads(path.read_text()).get(order_key, ""))
        except (OSError, json.JSONDecodeError):
            stamp = ""  # unreadable files sort oldest and are the first to go
        candidates.append((stamp, path.stat().st_mtime_ns, path.name, path))
    candidates.sort(reverse=True)
    removed = [entry[3] for entry in candidates[keep:]]
    for path in removed:
        path.unlink()
    return removed
