"""Period-close evidence bundles: a deterministic zip an auditor can verify on its own.

`<artifacts>/evidence/<tenant>/<period>-<hash16>.zip` holds the gate verdict, the mismatches with their
triage decisions and the triage action log (CSV), the reconciliation and finance reports (GL tie-out,
escrow net close) the verdict names, the
landing files' digests, and `manifest.json` listing the close instant (`closedAt`) and the sha256 and size
of every other file; `<hash16>` is a prefix of the manifest's sha256. Entries are sorted, carry a fixed timestamp and permissions, and
are deflated at a fixed level, so the same inputs give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.artifacts import write_once
from settld.core import canonical_json, sha256_hex

SCHEMA_VERSION = "PeriodEvidenceBundle.v1"
MANIFEST = "manifest.json"
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry: no wall clock in the bytes
FILE_MODE = 0o644 << 16


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """CSV with a header, `\\n` line ends, empty for null (values rendered with str())."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else row[column] for column in columns])
    return buffer.getvalue().encode("utf-8")


def json_bytes(document: Any) -> bytes:
    return (canonical_json(document) + "\n").encode("utf-8")


def build_bundle(
    files: Mapping[str, bytes],
    *,
    tenant_id: str,
    period: str,
    verdict_hash: str,
    closed_at: str | None = None,
) -> tuple[bytes, str]:
    """The zip's bytes and its manifest hash, from `files` (path inside the bundle -> content);
    `closed_at` (ISO-8601 UTC) is the close instant, an input of the close, never the clock."""
    if MANIFEST in files:
        raise ValueError(f"{MANIFEST} is written by the bundle itself")
    manifest = {
        "schemaVersion": SCHEMA_VERSION,
        "tenantId": tenant_id,
        "period": period,
        "verdictHash": verdict_hash,
        **({"closedAt": closed_at} if closed_at is not None else {}),
        "files": [
            {"path": path, "sha256": sha256_hex(files[path]), "bytes": len(files[path])}
            for path in sorted(files)
        ],
    }
    manifest_bytes = json_bytes(manifest)
    return _encode({**files, MANIFEST: manifest_bytes}), sha256_hex(manifest_bytes)


def _encode(entries: Mapping[str, bytes]) -> bytes:
    """The one canonical zip encoding of `entries` (verification re-encodes and compares bytes)."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for path, content in sorted(entries.items()):
            info = zipfile.ZipInfo(path, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = FILE_MODE
            info.create_system = 3  # unix, whatever the machine
            archive.writestr(info, content, compresslevel=6)
    return output.getvalue()


def write_bundle(directory: Path, period: str, data: bytes, manifest_hash: str) -> Path:
    """Write once: the same bundle lands at the same path with the same bytes."""
    path = directory / f"{period}-{manifest_hash[:16]}.zip"
    write_once(path, data)
    return path


@dataclass
class Verification:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    files: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def verify_bundle(path: Path) -> Verification:
    """Check every file against the manifest, that nothing is missing or extra, the name's hash, and that
    the zip is exactly the canonical encoding of its contents (so a changed header byte fails too)."""
    result = Verification()
    try:
        original = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(original)) as archive:
            names = set(archive.namelist())
            if MANIFEST not in names:
                result.fail("manifest.json is missing")
                return result
            manifest_bytes = archive.read(MANIFEST)
            result.manifest = json.loads(manifest_bytes)
            listed = {entry["path"]: entry for entry in result.manifest.get("files", [])}
            for name in sorted(names - set(listed) - {MANIFEST}):
                result.fail(f"{name}: not listed in the manifest")
            contents = {MANIFEST: manifest_bytes}
            for name, entry in sorted(listed.items()):
                if name not in names:
                    result.fail(f"{name}: listed in the manifest but missing")
                    continue
                content = contents[name] = archive.read(name)
                result.files += 1
                if hashlib.sha256(content).hexdigest() != entry["sha256"] or len(content) != entry["bytes"]:
                    result.fail(f"{name}: sha256 or size differs from the manifest")
            if result.ok and _encode(contents) != original:
                result.fail("the zip container differs from the canonical encoding of its files (altered)")
    # A damaged zip fails in many ways (bad CRC, zlib errors, a flipped "encrypted" flag, an unknown
    # compression method, a truncated entry...): any of them means the bundle cannot be verified.
    except Exception as error:  # noqa: BLE001
        result.fail(f"unreadable bundle: {type(error).__name__}: {error}")
        return result
    expected_prefix = sha256_hex(manifest_bytes)[:16]
    if not path.stem.endswith(expected_prefix):
        result.fail(f"file name does not end with the manifest hash prefix {expected_prefix}")
    return result
