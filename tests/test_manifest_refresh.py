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
            stop.wait(0.01)  # a pause to let go of the GIL: without it the parses take several times longer

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
    assert sorted(p.name for p in target.iterdir()) == [
        "manifest.json", "partial_parse.msgpack", project.PARSED_FROM_FILE,
    ]  # fmt: skip
    assert json.loads(manifest.read_bytes())["metadata"]["project_name"] == "settld"

    # The same settings again: nothing the parse reads has changed, so dbt is not run and the manifest
    # is the very file the last parse wrote (the loop above parsed again for each change of settings).
    written = manifest.stat()
    project.refresh_manifest(settings)
    assert (manifest.stat().st_ino, manifest.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


@pytest.mark.slow  # two dbt parses of the project
def test_the_as_of_of_a_build_re_parses_nothing(tmp_path: Path, monkeypatch) -> None:
    """`settld run` parses without the as-of and builds with it in the environment
    (`settld.settings.split_as_of`). dbt notes every environment variable a file reads while parsing and
    parses the file again when the value differs, so the as-of must not be read while parsing: when it
    was, every build parsed again the 16 models using it and their tests (about 3 s a run)."""
    from dbt.cli.main import dbtRunner

    from settld.settings import DBT_AS_OF_ENVIRONMENT

    target = tmp_path / "target"
    isolated = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target)
    monkeypatch.setattr(project, "dbt_project", isolated)
    settings = Settings(home=tmp_path / "home")
    project.refresh_manifest(settings)  # as a run does before its build
    arguments, environment = project.parse_invocation(settings)
    monkeypatch.setenv(DBT_AS_OF_ENVIRONMENT, "2026-11-03 00:00:00")  # as the build is given it
    events: list[str] = []
    with environment:
        parsed = dbtRunner(callbacks=[lambda event: events.append(event.info.name)]).invoke(
            [*arguments, "--target-path", str(target)]
        )
    assert parsed.success, parsed.exception
    assert "PartialParsingSkipParsing" in events, sorted(set(events))
    assert "PartialParsingFile" not in events


def _tiny_project(folder: Path) -> DbtProject:
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text("name: tiny\nprofile: tiny\n")
    (folder / "models" / "one.sql").write_text("select {{ env_var('TINY_SCALE', '1') }} as one\n")
    return DbtProject(project_dir=folder, profiles_dir=folder, target_path=folder / "target")


def test_what_the_parse_reads_is_in_its_inputs(tmp_path: Path, monkeypatch) -> None:
    """The digest that lets a run skip `dbt parse` changes with every input dbt's parse reads, and with
    nothing else: not with its own target or log folders."""
    tiny = _tiny_project(tmp_path / "tiny")
    monkeypatch.setattr(project, "dbt_project", tiny)
    monkeypatch.delenv("TINY_SCALE", raising=False)
    target = Path(tiny.manifest_path).parent
    arguments = ["parse", "--target", "duckdb"]
    first = project._parse_inputs(arguments, skip=target)

    target.mkdir()
    (target / "manifest.json").write_text("{}")
    elsewhere = tmp_path / "elsewhere"  # a run whose target path is not the project's default
    assert project._parse_inputs(arguments, skip=elsewhere) == first
    (tmp_path / "tiny" / "logs").mkdir()
    (tmp_path / "tiny" / "logs" / "dbt.log").write_text("a line")
    assert project._parse_inputs(arguments, skip=target) == first

    changed = []
    monkeypatch.setenv("TINY_SCALE", "2")  # named by the project in env_var(...)
    changed.append(project._parse_inputs(arguments, skip=target))
    monkeypatch.setenv("DBT_PARTIAL_PARSE", "false")  # dbt's own
    changed.append(project._parse_inputs(arguments, skip=target))
    changed.append(project._parse_inputs([*arguments, "--vars", "{}"], skip=target))
    (tmp_path / "tiny" / "models" / "one.sql").write_text("select 2 as one\n")
    changed.append(project._parse_inputs([*arguments, "--vars", "{}"], skip=target))
    (tmp_path / "tiny" / "models" / "two.sql").write_text("select 2 as two\n")
    changed.append(project._parse_inputs([*arguments, "--vars", "{}"], skip=target))
    assert len({first, *changed}) == 6

    monkeypatch.setenv("SOMETHING_ELSE", "x")  # neither named by the project nor dbt's
    assert project._parse_inputs([*arguments, "--vars", "{}"], skip=target) == changed[-1]


def test_a_manifest_replaced_since_its_record_is_parsed_again(tmp_path: Path) -> None:
    """Two homes share `target/`: the record names the manifest file it was written with, so another
    run's manifest in its place makes the record stale (parse again), never wrong (skip wrongly)."""
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text("{}")
    stat = (target / "manifest.json").stat()
    (target / project.PARSED_FROM_FILE).write_text(
        json.dumps({"inputs": "abc", "manifest": project._identity(stat)})
    )
    assert project._parsed_from(target) == "abc"
    (tmp_path / "other.json").write_text('{"another": "run"}')
    (tmp_path / "other.json").replace(target / "manifest.json")
    assert project._parsed_from(target) is None
    (target / project.PARSED_FROM_FILE).write_text("not json")
    assert project._parsed_from(target) is None
