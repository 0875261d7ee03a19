"""Raw suites sized to the run: the period gate's one validation per dataset gives every tenant the
outcome a validation of its own gives (clean rows, broken rows, rows without a tenant, an empty
period), the daily run's raw_quality stage validates each file until it passes, and the daily run's
gate, reusing those passes, gives the outcomes a full validation gives.

Real DuckDB warehouses loaded from generated landing zones; no pipeline run, no dbt."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from devtools.sample_data import generate_landing_zone
from ingestion.loader import load_landing_zone
from quality.raw_suites import validate_all, validate_files_not_yet_passed, validate_raw
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


def _daily(path: Path) -> tuple[int, list[tuple[str, int]], int]:
    """The daily run's raw suite of payout instructions: rows validated, failures, files passed."""
    with connect_warehouse(warehouse_target(str(path))) as db:
        suite = validate_files_not_yet_passed(db, datasets=["payout_instructions"])["payout_instructions"]
        passed = db.scalar(
            "select count(*) from audit.raw_suite_passes where dataset = 'payout_instructions'"
        )
    return suite.evaluated_rows, [(o.check_id, o.unexpected_count) for o in suite.failures], passed


def test_the_daily_raw_suites_validate_each_file_until_it_passes(loaded, tmp_path) -> None:
    warehouse = _copy(loaded, tmp_path)
    landing = tmp_path / "landing"
    shutil.copytree(loaded["landing"], landing)
    with connect_warehouse(warehouse_target(str(warehouse)), read_only=True) as db:
        total = db.scalar("select count(*) from raw.payout_instructions")
        files = db.scalar("select count(*) from raw.load_files where dataset = 'payout_instructions'")
    assert _daily(warehouse) == (total, [], files)  # the first run: every file, and each one passes
    assert _daily(warehouse) == (0, [], files)  # nothing new: nothing to validate

    # A row broken past the contracts in a file that passed: not the daily run's to see again (its rows
    # are those that passed), the full validation's (`settld gate`, before a close).
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
    # A row written to raw past the loader (no loaded file accounts for it): validated on every run.
    _execute(
        warehouse,
        "insert into raw.payout_instructions (tenant_id, payout_key, party_id, party_role, period, "
        "amount_cents, currency, provider_id, created_at, _source_file, _source_row) values "
        "('tnt_acme', 'pk_manual', 'agt_1', 'payee', '2026-09', -5, 'USD', 'wire_fedline', "
        "'2026-10-01 02:00:00', 'manual/instructions.csv', 1)",
    )
    negative = "ge.payout_instructions.amount_cents_non_negative"
    # The new file's three rows and the row of no file; the suite fails, so the new file gets no pass
    # and is validated again on the next run, until the fault is gone.
    assert _daily(warehouse) == (4, [(negative, 1)], files)
    assert _daily(warehouse) == (4, [(negative, 1)], files)
    _execute(warehouse, "delete from raw.payout_instructions where payout_key = 'pk_manual'")
    assert _daily(warehouse) == (3, [], files + 1)
    assert _daily(warehouse) == (0, [], files + 1)

    with connect_warehouse(warehouse_target(str(warehouse)), read_only=True) as db:
        whole = validate_raw(db, "payout_instructions")
    assert whole.evaluated_rows == total + 3
    assert [(o.check_id, o.unexpected_count) for o in whole.failures] == [(negative, 1)]

    # A file loaded again (a corrected delivery under its old name) is a new load: validated again, and
    # so is every file when the suite itself changes.
    _execute(
        warehouse,
        "update raw.load_files set loaded_at = loaded_at + interval 1 second where source_file = ?",
        [new_file.relative_to(landing).as_posix()],
    )
    assert _daily(warehouse) == (3, [], files + 1)
    _execute(warehouse, "update audit.raw_suite_passes set suite_hash = 'an earlier suite'")
    rows, failures, _ = _daily(warehouse)
    assert (rows, failures) == (total + 3, [(negative, 1)])


def test_the_daily_gate_reusing_passes_gives_the_full_outcomes(loaded, tmp_path) -> None:
    warehouse = _copy(loaded, tmp_path)
    with connect_warehouse(warehouse_target(str(warehouse))) as db:
        validate_files_not_yet_passed(db)
    for period in ("2026-10", "2026-12"):  # a period with rows, and one without
        with connect_warehouse(warehouse_target(str(warehouse)), read_only=True) as db:
            full = validate_all_tenants(db, period=period, tenant_ids=TENANTS)
            reused = validate_all_tenants(db, period=period, tenant_ids=TENANTS, reuse_passes=True)
        assert reused == full
    # Rows that no pass covers are validated: a broken one is found, by tenant, as in full.
    _execute(
        warehouse,
        "insert into raw.payout_instructions (tenant_id, payout_key, party_id, party_role, period, "
        "amount_cents, currency, provider_id, created_at, _source_file, _source_row) values "
        "('tnt_acme', 'pk_manual', 'agt_1', 'payee', '2026-10', -5, 'USD', 'wire_fedline', "
        "'2026-10-01 02:00:00', 'manual/instructions.csv', 1)",
    )
    with connect_warehouse(warehouse_target(str(warehouse)), read_only=True) as db:
        full = validate_all_tenants(db, period="2026-10", tenant_ids=TENANTS)
        reused = validate_all_tenants(db, period="2026-10", tenant_ids=TENANTS, reuse_passes=True)
    assert reused == full
    assert not full["tnt_acme"]["payout_instructions"].success
