"""`settld run`'s Dagster instance writes its SQLite run history without an fsync per event, and only
its run history: a SQLite file elsewhere (the operator API's database) keeps SQLite's default."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from sqlalchemy import create_engine, text

from settld.cli.pipeline import _instance


def _synchronous(path: Path) -> int:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return connection.execute(text("pragma synchronous")).scalar_one()
    finally:
        engine.dispose()


def test_only_the_dagster_home_is_unsynced(tmp_path: Path, monkeypatch) -> None:
    home, elsewhere = tmp_path / "dagster_home", tmp_path / "warehouse"
    beside = tmp_path / "dagster_home_beside"  # its name starts with the home's: still another folder
    elsewhere.mkdir()
    beside.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with _instance() as instance:

        @dg.op
        def hello() -> int:
            return 1

        @dg.job
        def tiny():
            hello()

        assert tiny.execute_in_process(instance=instance).success
        assert instance.get_runs()  # the run is in the history
    assert _synchronous(home / "history" / "runs.db") == 0
    assert _synchronous(elsewhere / "settld-api.sqlite3") == 2  # FULL, SQLite's default
    assert _synchronous(beside / "runs.db") == 2
