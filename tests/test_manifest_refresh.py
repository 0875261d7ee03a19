"""`refresh_manifest` publishes the dbt manifest whole: a run importing the asset graph while another run
parses reads the previous manifest or the new one, never half a file (two homes share this checkout's
`dbt_project/target/`; a drill caught a run reading a manifest another run was writing)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from dagster_dbt import DbtProject

import orchestration.defs.transform.project as project
from settld.settings import DBT_PROJECT_DIR, Settings


@pytest.mark.drill  # three whole dbt parses (new vars each time): CI runs it with the drills
def test_a_reader_never_sees_a_manifest_being_written(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "target"
    isolated = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target)
    monkeypatch.setattr(project, "dbt_project", isolated)
    manifest = Path(isolated.manifest_path)
    assert manifest.parent == target
    project.refresh_manifest()  # a first manifest and partial-parse state
    stop, reads, broken = threading.Event(), [0], []

    def read_while_parsing() -> None:
        while not stop.is_set():
            try:
                json.loads(manifest.read_bytes())
                reads[0] += 1
            except (ValueError, FileNotFoundError) as error:
                broken.append(repr(error)[:200])

    reader = threading.Thread(target=read_while_parsing)
    reader.start()
    try:
        for grace_days in (3, 4):  # other vars each time: dbt writes a new manifest every time
            settings = Settings(home=tmp_path / "home", reconciliation_grace_days=grace_days)
            project.refresh_manifest(settings)
    finally:
        stop.set()
        reader.join()
    assert reads[0] > 0 and broken == []
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "partial_parse.msgpack"]
    assert json.loads(manifest.read_bytes())["metadata"]["project_name"] == "settld"
