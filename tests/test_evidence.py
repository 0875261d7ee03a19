"""Evidence bundles: deterministic bytes, and verification that catches any single changed byte."""

from __future__ import annotations

from pathlib import Path

from reports.evidence import build_bundle, verify_bundle, write_bundle

FILES = {
    "mismatches.csv": b"triage_key,status\nfrt_1,dismissed\n" * 40,
    "gate-verdict.json": b'{"ok":true}\n',
}


def test_the_same_files_give_the_same_bytes_and_name(tmp_path: Path) -> None:
    first = build_bundle(FILES, tenant_id="t1", period="2026-10", verdict_hash="a" * 64)
    again = build_bundle(
        dict(reversed(list(FILES.items()))), tenant_id="t1", period="2026-10", verdict_hash="a" * 64
    )
    assert first == again
    path = write_bundle(tmp_path, "2026-10", *first)
    assert path.name == f"2026-10-{first[1][:16]}.zip" and verify_bundle(path).ok


def test_every_single_byte_change_fails_verification(tmp_path: Path) -> None:
    data, manifest_hash = build_bundle(FILES, tenant_id="t1", period="2026-10", verdict_hash="a" * 64)
    path = tmp_path / f"2026-10-{manifest_hash[:16]}.zip"
    still_ok = []
    for position in range(len(data)):
        changed = bytearray(data)
        changed[position] ^= 0x01
        path.write_bytes(bytes(changed))
        if verify_bundle(path).ok:
            still_ok.append(position)
    assert still_ok == []


def test_a_renamed_bundle_fails_verification(tmp_path: Path) -> None:
    data, _ = build_bundle(FILES, tenant_id="t1", period="2026-10", verdict_hash="a" * 64)
    path = tmp_path / "2026-10-0000000000000000.zip"
    path.write_bytes(data)
    result = verify_bundle(path)
    assert not result.ok and "manifest hash" in result.problems[0]
