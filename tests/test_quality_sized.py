"""Raw suites sized to the run: the period gate's one validation per dataset gives every tenant the
outcome a validation of its own gives (clean rows, broken rows, rows without a tenant, an empty
period), and the daily run's raw_quality stage validates the rows of the latest load only.

Real DuckDB warehouses loaded from generated landing zones; no pipeline run, no dbt."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from devtools.sample_data import generate_landing_zone
from ingestion.loader import load_landing_zone
from quality.raw_suites import validate_all, validate_raw
from quality.raw_suites.batched import validate_all_tenants
from settld.settings import warehouse_target
from settld.warehouse import connect as connect_warehouse

TENANTS = ["tnt_acme", "tnt_globex", "tnt_nobody"]  # the last has no rows at all


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("quality_sized")
    landing, warehouse = root / "landing", root / "clean.duckdb"
    generate_landing_zone(landing, seed=11, tenants=2)
    load_landing_zone(warehouse, landing)
    return {"landing": landing, "warehouse": warehouse}


def _copy(loaded: dict[str, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(loaded["warehouse"], copy)
    return copy


def _execute(path: Path, sql: str, params: list | None = None) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(sql, params or [])


def _both_ways(path: Path, period: str):
    with connect_warehouse(warehouse_target(str(path)), read_only=True) as db:
        batched = validate_all_tenants(db, period=period, tenant_ids=TENANTS)
        alone = {tenant: validate_all(db, period=period, tenant_id=tenant) for tenant in TENANTS}
    return batched, alone


def test_one_validation_per_period_gives_each_tenant_its_own_outcome(loaded) -> None:
    batched, alone = _both_ways(loaded["warehouse"], "2026-09")
    assert batched == alone
    assert all(suite.success for suites in batched.values() for suite in suites.values())
    # the counts are each tenant's own, not the period's (and none for a tenant without rows)
    rows = {t: batched[t]["money_rail_operations"].evaluated_rows for t in TENANTS}
    assert rows["tnt_acme"] > 0 and rows["tnt_globex"] > 0 and rows["tnt_nobody"] == 0


def test_broken_rows_are_validated_tenant_by_tenant_with_the_same_outcome(loaded, tmp_path) -> None:
    warehouse = _copy(loaded, tmp_path)
    _execute(  # submitted before initiated, for one tenant
        warehouse,
        "insert into raw.money_rail_operations (provider_id, operation_id, tenant_id, direction, amount_cents, "
        "currency, state, initiated_at, submitted_at, updated_at, _source_file, _source_row) values "
        "('wire_fedline', 'op_time_travel', 'tnt_acme', 'payout', 1500, 'USD', 'submitted', "
        "'2026-09-10 10:00:00', '2026-09-10 09:59:59', '2026-09-10 10:00:00', 'manual/ops.jsonl', 1)",
    )
    _execute(  # a payout instruction without its tenant: in every tenant's selection
        warehouse,
        "insert into raw.payout_instructions (tenant_id, payout_key, party_id, party_role, period, "
        "amount_cents, currency, provider_id, created_at, _source_file, _source_row) values "
        "(null, 'pk_nobody', 'agt_1', 'payee', '2026-09', 5, 'USD', 'wire_fedline', "
        "'2026-10-01 02:00:00', 'manual/instructions.csv', 1)",
    )
    batched, alone = _both_ways(warehouse, "2026-09")
    assert batched == alone
    failing = {t: sorted(o.check_id for s in batched[t].values() for o in s.failures) for t in TENANTS}
    assert "ge.money_rail_operations.submitted_after_initiated" in failing["tnt_acme"]
    assert "ge.money_rail_operations.submitted_after_initiated" not in failing["tnt_globex"]
    assert all("ge.payout_instructions.tenant_id_not_null" in failing[t] for t in TENANTS)


def test_the_raw_quality_stage_validates_the_rows_of_the_latest_load(loaded, tmp_path) -> None:
    warehouse = _copy(loaded, tmp_path)
    landing = tmp_path / "landing"
    shutil.copytree(loaded["landing"], landing)
    # A row broken past the contracts in a file loaded earlier: not the latest load's (its run saw it),
    # the gate's to see.
    _execute(
        warehouse,
        "update raw.payout_instructions set amount_cents = -1 where _source_row = 1 and _source_file = "
        "(select min(_source_file) from raw.payout_instructions)",
    )
    new_file = landing / "payout_instructions" / "payout_instructions-2026-11.csv"
    earlier = sorted((landing / "payout_instructions").glob("*.csv"))[-1]
    lines = earlier.read_text().splitlines()
    new_file.write_text(
        "\n".join([lines[0], *(line.replace("2026-10", "2026-11") for line in lines[1:4])]) + "\n"
    )
    load_landing_zone(warehouse, landing)
    # A row written to raw past the loader (no loaded file accounts for it): always in the stage's rows.
    _execute(
        warehouse,
        "insert into raw.payout_instructions (tenant_id, payout_key, party_id, party_role, period, "
        "amount_cents, currency, provider_id, created_at, _source_file, _source_row) values "
        "('tnt_acme', 'pk_manual', 'agt_1', 'payee', '2026-09', -5, 'USD', 'wire_fedline', "
        "'2026-10-01 02:00:00', 'manual/instructions.csv', 1)",
    )

    with connect_warehouse(warehouse_target(str(warehouse)), read_only=True) as db:
        latest = validate_raw(db, "payout_instructions", latest_load=True)
        whole = validate_raw(db, "payout_instructions")
        files = db.query(
            "select source_file, rows_loaded from raw.load_files where dataset = 'payout_instructions' "
            "and status = 'loaded' order by loaded_at desc, source_file limit 1"
        )
    assert files == [{"source_file": "payout_instructions/payout_instructions-2026-11.csv", "rows_loaded": 3}]
    negative = "ge.payout_instructions.amount_cents_non_negative"
    assert latest.evaluated_rows == 4  # the new file's three rows and the row of no file
    assert [(o.check_id, o.unexpected_count) for o in latest.failures] == [(negative, 1)]
    assert whole.evaluated_rows > 4  # the earlier file's broken row too
    assert [(o.check_id, o.unexpected_count) for o in whole.failures] == [(negative, 2)]
