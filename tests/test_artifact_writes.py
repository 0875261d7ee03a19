"""Artifact files are written whole or not at all (settld.core.atomic_write), and the newest of two reports
that share an as-of is the one produced last, never the one whose hash sorts last (issue 27)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from quality.gate_inputs import latest_reports
from reports.artifacts import write_artifact, write_once
from settld.core import atomic_write


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "report.json"
    atomic_write(path, b"first\n")
    atomic_write(path, b"second\n")
    assert path.read_bytes() == b"second\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.json"]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    atomic_write(path, b"old\n")
    with pytest.raises(TypeError):
        atomic_write(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old\n" and sorted(os.listdir(tmp_path)) == ["report.json"]


def test_concurrent_writers_never_leave_a_mixed_file(tmp_path: Path) -> None:
    """Each writer has a temporary file of its own: the result is one writer's bytes, whole."""
    path = tmp_path / "verdict.json"
    contents = [bytes([65 + n]) * 200_000 for n in range(8)]
    threads = [threading.Thread(target=write_once, args=(path, data)) for data in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert path.read_bytes() in contents
    assert sorted(os.listdir(tmp_path)) == ["verdict.json"]


def _next_file_time_tick(folder: Path) -> None:
    """Return once the file system's clock (coarse: a few ms) has moved on since the last write."""
    probe = folder / "probe"
    probe.touch()
    first = probe.stat().st_mtime_ns
    while probe.stat().st_mtime_ns == first:
        probe.touch()


def _report(hash_: str, as_of: str = "2026-11-03T00:00:00.000000Z") -> dict:
    return {"providerId": "rail_a", "asOf": as_of, "reportHash": hash_ * 64, "content": hash_}


def test_of_two_reports_with_the_same_as_of_the_gate_takes_the_one_produced_last(tmp_path: Path) -> None:
    directory = tmp_path / "reconciliation" / "t1" / "2026-10"
    # A rerun with the same --as-of on changed files, then on the files as they were: the report of the
    # first content is the current one again, whatever the order of the hashes in the names.
    for content in ("f", "0", "f"):
        _next_file_time_tick(tmp_path)  # runs are seconds apart; these writes would share a tick
        write_artifact(directory, "rail_a", content * 64, _report(content))
        newest = latest_reports(tmp_path, tenant_id="t1", period="2026-10")
        assert [entry["report"]["content"] for entry in newest] == [content]
    write_artifact(directory, "rail_a", "1" * 64, _report("1", as_of="2026-11-04T00:00:00.000000Z"))
    assert [e["report"]["content"] for e in latest_reports(tmp_path, tenant_id="t1", period="2026-10")] == [
        "1"
    ]
