"""Money-rail reconciliation on generated data: the marts find exactly what was injected, reports are
content-addressed and stable, and the daily schedule covers the current and previous period."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.as_of import AS_OF_TAG
from orchestration.schedules import daily_run_schedule, stage_run_request
from orchestration.stages import DAILY_RUN
from reports.artifacts import apply_retention, write_artifact
from reports.reconciliation import triage_key
from settld.core import canonical_hash, canonical_json
from settld.vocabulary import MONEY_RAIL_MISMATCH_TYPES

pipeline = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def mismatch_rows(warehouse: Path) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute("select * from marts.fct_reconciliation_mismatches order by triage_key")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
def test_every_injected_problem_is_found_and_nothing_else(pipeline_run: dict) -> None:
    with (pipeline_run["landing"] / "injected.csv").open() as handle:
        injected = {
            (r["tenant_id"], r["period"], r["provider_id"], r["mismatch_type"], r["mismatch_key"])
            for r in csv.DictReader(handle)
            if r["mismatch_type"] in MONEY_RAIL_MISMATCH_TYPES  # not decoys, not invoice disagreements
        }
    found = {
        (r["tenant_id"], r["period"], r["provider_id"], r["mismatch_type"], r["mismatch_key"])
        for r in mismatch_rows(pipeline_run["warehouse"])
    }
    assert {key[3] for key in injected} == set(MONEY_RAIL_MISMATCH_TYPES), "every type should be injected"
    assert found == injected


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
def test_triage_keys_are_the_documented_hash(pipeline_run: dict) -> None:
    rows = mismatch_rows(pipeline_run["warehouse"])
    for row in rows:
        assert row["triage_key"] == triage_key(
            source_type=row["source_type"], tenant_id=row["tenant_id"], period=row["period"],
            provider_id=row["provider_id"], mismatch_type=row["mismatch_type"], mismatch_key=row["mismatch_key"],
        )  # fmt: skip
    assert len({row["triage_key"] for row in rows}) == len(rows)


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
def test_reports_are_canonical_content_addressed_and_agree_with_the_marts(pipeline_run: dict) -> None:
    files = sorted((pipeline_run["artifacts"] / "reconciliation").rglob("*.json"))
    assert files
    total = 0
    for path in files:
        text = path.read_text()
        report = json.loads(text)
        assert text == canonical_json(report) + "\n"
        core = {k: v for k, v in report.items() if k not in ("artifactId", "reportHash")}
        assert report["reportHash"] == canonical_hash(core)
        assert path.name == f"{report['providerId']}-{report['reportHash'][:16]}.json"
        assert path.parent.parts[-2:] == (report["tenantId"], report["period"])
        assert report["asOf"] == pipeline_run["manifest"]["as_of"]
        assert report["status"] == ("pass" if all(c["ok"] for c in report["checks"]) else "fail")
        total += len(report["mismatches"])
    assert total == len(mismatch_rows(pipeline_run["warehouse"]))


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
def test_reports_asset_publishes_counts_and_largest_mismatches(pipeline_run: dict, tmp_path: Path) -> None:
    from orchestration.definitions import ASSETS, build_resources
    from settld.settings import Settings

    settings = Settings(
        warehouse_url=str(pipeline_run["warehouse"]), artifacts_dir=tmp_path, landing_dir=tmp_path
    )
    result = dg.materialize(
        ASSETS,
        resources=build_resources(settings),
        selection=dg.AssetSelection.assets(["reports", "reconciliation_reports"]),
        tags={
            "dagster/asset_partition_range_start": "2026-09",
            "dagster/asset_partition_range_end": "2026-10",
            AS_OF_TAG: pipeline_run["manifest"]["as_of"],
        },
    )
    # Each period's partition shows that period only, with the triage keys the API takes.
    materialized = result.asset_materializations_for_node("reports__reconciliation_reports")
    assert sorted(m.partition for m in materialized) == ["2026-09", "2026-10"]
    for materialization in materialized:
        metadata, period = materialization.metadata, materialization.partition
        in_period = [r for r in mismatch_rows(pipeline_run["warehouse"]) if r["period"] == period]
        assert metadata["mismatches_total"].value == len(in_period) > 0
        assert sum(metadata["mismatches_by_type"].value.values()) == len(in_period)
        table = metadata["largest_mismatches"].value
        assert "| severity | type | meaning |" in table
        keys = re.findall(r"`(frt_\w+)`", table)
        assert keys and all(key.startswith(f"frt_{period.replace('-', '')}_") for key in keys)
    # Same inputs, same as-of: the reports written here are byte-identical to the pipeline's.
    ours = {
        p.relative_to(tmp_path).as_posix(): p.read_bytes()
        for p in tmp_path.glob("reconciliation/*/2026-09/*.json")
    }
    theirs = {
        p.relative_to(pipeline_run["artifacts"]).as_posix(): p.read_bytes()
        for p in pipeline_run["artifacts"].glob("reconciliation/*/2026-09/*.json")
    }
    assert ours and ours == theirs


def test_daily_run_reconciles_the_current_and_previous_period_as_of_its_tick() -> None:
    tick = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    request = daily_run_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert request.job_name == DAILY_RUN[0].job_name
    assert request.tags[AS_OF_TAG] == "2026-12-01T06:00:00Z"
    # The stage that runs over periods, started by the chain with the same as-of, covers two months.
    reports = stage_run_request(next(s for s in DAILY_RUN if s.over_periods), request.tags[AS_OF_TAG])
    assert reports.tags["dagster/asset_partition_range_start"] == "2026-11"
    assert reports.tags["dagster/asset_partition_range_end"] == "2026-12"


def test_artifact_writes_are_idempotent_and_retention_keeps_the_newest(tmp_path: Path) -> None:
    first = write_artifact(tmp_path, "wire", "a" * 64, {"asOf": "2026-11-01T00:00:00Z", "n": 1})
    again = write_artifact(tmp_path, "wire", "a" * 64, {"asOf": "2026-11-01T00:00:00Z", "n": 1})
    assert first.created and not again.created and first.path == again.path
    for day, digest in ((2, "b"), (3, "c"), (4, "d")):
        write_artifact(tmp_path, "wire", digest * 64, {"asOf": f"2026-11-0{day}T00:00:00Z"})
    write_artifact(tmp_path, "wire_other", "e" * 64, {"asOf": "2026-10-01T00:00:00Z"})

    removed = apply_retention(tmp_path, "wire", 2, order_key="asOf")

    assert sorted(p.name for p in removed) == ["wire-aaaaaaaaaaaaaaaa.json", "wire-bbbbbbbbbbbbbbbb.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "wire-cccccccccccccccc.json", "wire-dddddddddddddddd.json", "wire_other-eeeeeeeeeeeeeeee.json",
    ]  # fmt: skip
    with pytest.raises(ValueError):
        apply_retention(tmp_path, "wire", 0, order_key="asOf")
