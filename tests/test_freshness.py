"""Landing freshness: a dataset that stops receiving files is red in the UI's asset check and keeps the
period gate closed; reloading unchanged files does not make it fresh."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from ingestion.contracts import DATASETS, LOAD_FILES_DDL
from ingestion.duckdb_sink import ensure_raw_schema
from ingestion.finance_contracts import FINANCE_FOLDERS
from orchestration.as_of import AS_OF_TAG
from quality.freshness import dataset_freshness, period_freshness_details
from settld.settings import warehouse_target
from settld.warehouse import connect

LOADED = {
    "settlements": datetime(2026, 11, 2, 1, 0),
    "payout_instructions": datetime(2026, 11, 2, 1, 0),
    "money_rail_operations": datetime(2026, 10, 30, 1, 0),  # stopped arriving before October ended
}  # stripe_events: never delivered


def _warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(LOAD_FILES_DDL)
        for dataset, loaded_at in LOADED.items():
            con.execute(
                "insert into raw.load_files values (?, ?, 'sha', 'jsonl', 1, 1, 0, ?)",
                [dataset, f"{dataset}/a.jsonl", loaded_at],
            )
        ensure_raw_schema(con)  # the ledger's later columns, as on an upgraded warehouse: rows read 'loaded'
    return path


def test_stale_and_missing_datasets_are_found(tmp_path: Path) -> None:
    with connect(warehouse_target(str(_warehouse(tmp_path / "w.duckdb"))), read_only=True) as db:
        found = {f.dataset: f for f in dataset_freshness(db)}
        assert set(found) == set(DATASETS)
        as_of = datetime(2026, 11, 3, 6, 0)  # 29 h after the kernel's last file, 4 days after the rails'
        assert not found["settlements"].is_stale(as_of)
        assert found["money_rail_operations"].is_stale(as_of)
        assert found["stripe_events"].is_stale(as_of) and found["stripe_events"].newest_loaded_at is None

        ok, details = period_freshness_details(db, period="2026-10")
        assert not ok
        # the kernel's books never delivered either: their month closes are an export like any other
        books = sorted(FINANCE_FOLDERS)
        assert details["datasetsWithoutDeliveryAfterPeriodEnd"] == sorted(
            ["money_rail_operations", "stripe_events", *books]
        )
        ok, _ = period_freshness_details(db, period="2026-09")
        assert not ok  # stripe_events never delivered


def test_the_asset_check_is_red_for_a_dataset_that_stopped(tmp_path: Path) -> None:
    from orchestration.definitions import ASSETS, build_resources
    from settld.settings import Settings

    warehouse = _warehouse(tmp_path / "w.duckdb")
    settings = Settings(warehouse_url=str(warehouse), landing_dir=tmp_path, artifacts_dir=tmp_path / "a")
    keys = [dg.AssetCheckKey(dg.AssetKey(["raw", name]), "landing_freshness") for name in DATASETS]
    result = dg.materialize(
        ASSETS,
        resources=build_resources(settings),
        selection=dg.AssetSelection.checks(*keys),
        tags={AS_OF_TAG: "2026-11-03T06:00:00Z"},
        raise_on_error=False,
    )
    outcomes = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert {name: e.passed for name, e in outcomes.items()} == {
        "settlements": True, "payout_instructions": True, "money_rail_operations": False, "stripe_events": False,
        **dict.fromkeys(FINANCE_FOLDERS, False),  # never delivered
    }  # fmt: skip
    assert outcomes["money_rail_operations"].severity == dg.AssetCheckSeverity.ERROR
