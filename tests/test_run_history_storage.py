"""`settld run`'s Dagster instance writes its SQLite run history without an fsync per event, and only
its run history: a SQLite file elsewhere (the operator API's database) keeps SQLite's default."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from sqlalchemy import create_engine, text

from settld.cli.run_history import instance as _instance


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


def test_one_connection_per_database_and_the_ui_reads_the_same_history(tmp_path: Path, monkeypatch) -> None:
    """`settld run` writes each run's events through one pooled connection per SQLite file (Dagster's own
    storage opens one per event), and Dagster's own storage, as `dagster dev` opens it, reads them all."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from settld.cli.run_history import PooledSqliteEventLogStorage

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    @dg.asset
    def ones() -> list[int]:
        return [1] * 3

    @dg.asset_check(asset=ones)
    def three_ones(ones: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=len(ones) == 3)

    @dg.asset
    def total(ones: list[int]) -> int:
        return sum(ones)

    job = dg.Definitions(
        assets=[ones, total], asset_checks=[three_ones]
    ).resolve_implicit_global_asset_job_def()
    opened: list[str] = []  # the SQLite file of every connection opened while the job runs

    def count(dialect, record, cargs, cparams) -> None:
        opened.append(Path(cargs[0] if cargs else cparams["database"]).name)

    with _instance() as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        event.listen(Engine, "do_connect", count)
        try:
            result = job.execute_in_process(instance=instance)
        finally:
            event.remove(Engine, "do_connect", count)
        assert result.success
        stored = instance.all_logs(result.run_id)
    assert len(stored) > 20  # enough events that a connection per event would show
    # the run's own file: two connections while Dagster creates it (its schema is made on a second one),
    # then that connection for every event; the index: one, and a second for Dagster's check, inside each
    # write of an asset event, that a table exists. The run storage (runs.db, a few writes a
    # run) still opens one per write.
    assert opened.count(f"{result.run_id}.db") <= 2, opened
    assert opened.count("index.db") <= 2, opened

    ui = dg.DagsterInstance.get()  # what `dagster dev` opens: Dagster's own classes
    try:
        assert type(ui.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert [entry.dagster_event_type for entry in ui.all_logs(result.run_id)] == [
            entry.dagster_event_type for entry in stored
        ]
        assert ui.get_latest_materialization_event(dg.AssetKey("total")) is not None
        assert ui.get_run_by_id(result.run_id).is_success
    finally:
        ui.dispose()
