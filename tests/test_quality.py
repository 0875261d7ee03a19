"""Great Expectations suites on the raw layer, on a real DuckDB warehouse loaded from generated data.

Clean generated data passes; rows written straight into raw (past the load contracts) fail the named
expectation, counted only in their own period and tenant; failures fail closed; the Dagster asset check
fails the landing run on a bad row.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from devtools.sample_data import generate_landing_zone
from ingestion.loader import load_landing_zone
from quality.raw_suites import (
    CHECKS,
    SuiteOutcome,
    build_suite,
    nothing_to_validate,
    validate_all,
    validate_raw,
    write_data_docs,
)
from settld.settings import Settings, warehouse_target
from settld.warehouse import Warehouse
from settld.warehouse import connect as connect_warehouse

TENANT, OTHER_TENANT = "tnt_acme", "tnt_globex"
SUBMITTED_AFTER_INITIATED = "ge.money_rail_operations.submitted_after_initiated"

BAD_OPERATION = """
insert into raw.money_rail_operations (provider_id, operation_id, tenant_id, direction, amount_cents,
    currency, state, initiated_at, submitted_at, updated_at, _source_file, _source_row)
values ('wire_fedline', 'op_time_travel', ?, 'payout', 1500, 'USD', 'submitted',
    '2026-09-10 10:00:00', '2026-09-10 09:59:59', '2026-09-10 10:00:00', 'manual/ops.jsonl', 1)
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("quality")
    landing, warehouse = root / "landing", root / "clean.duckdb"
    generate_landing_zone(landing, seed=11, tenants=2)
    load_landing_zone(warehouse, landing)
    return {"landing": landing, "warehouse": warehouse}


@pytest.fixture
def warehouse_file(generated: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of the clean warehouse, for a test to break."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(generated["warehouse"], copy)
    return copy


@contextmanager
def open_warehouse(path: Path) -> Iterator[Warehouse]:
    with connect_warehouse(warehouse_target(str(path)), read_only=True) as db:
        yield db


def execute(path: Path, sql: str, params: list | None = None) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(sql, params or [])


def outcome(suite: SuiteOutcome, check_id: str):
    return next(o for o in suite.outcomes if o.check_id == check_id)


def test_clean_generated_data_passes_every_expectation(generated: dict[str, Path]) -> None:
    with open_warehouse(generated["warehouse"]) as db:
        suites = validate_all(db)
    assert sorted(suites) == sorted(CHECKS)
    for name, suite in suites.items():
        assert suite.evaluated_rows > 0, name
        assert suite.blocking_failures == (), [(o.check_id, o.details) for o in suite.blocking_failures]
        assert suite.success, [(o.check_id, o.details) for o in suite.failures]
        assert [o.check_id for o in suite.outcomes] == [c.check_id for c in CHECKS[name]]
        for result in suite.outcomes:
            assert result.check_id.startswith(f"ge.{name}.") and result.dataset == name
            assert result.unexpected_count == 0 and result.evaluated_rows <= suite.evaluated_rows
    operations = suites["money_rail_operations"]
    assert outcome(operations, "ge.money_rail_operations.amount_cents_non_negative").evaluated_rows == (
        operations.evaluated_rows
    )
    assert outcome(operations, SUBMITTED_AFTER_INITIATED).blocking


def test_suites_carry_check_ids_and_blocking_flags_in_meta() -> None:
    for name, checks in CHECKS.items():
        suite = build_suite(name)
        assert suite.name == f"raw.{name}"
        metas = [e.meta for e in suite.expectations]
        assert metas == [{"check_id": c.check_id, "blocking": c.blocking} for c in checks]
        assert [e.expectation_type for e in suite.expectations] == [c.expectation_type for c in checks]
    blocking = {c.check_id for checks in CHECKS.values() for c in checks if c.blocking}
    assert {
        SUBMITTED_AFTER_INITIATED,
        "ge.money_rail_operations.confirmed_after_submitted",
        "ge.payout_instructions.amount_cents_non_negative",
        "ge.settlements.currency_is_iso_code",
        "ge.stripe_events.event_id_not_null",
        "ge.money_rail_operations.source_row_unique",
    } <= blocking
    assert "ge.money_rail_operations.state_accepted" not in blocking
    readme = (Path(__file__).parent.parent / "quality" / "README.md").read_text()
    for checks in CHECKS.values():
        for check in checks:
            flag = "yes" if check.blocking else "no"
            assert f"| `{check.check_id}` | {flag} | {check.expectation_type} |" in readme, check.check_id


def test_submitted_before_initiated_fails_in_its_period_and_tenant_only(warehouse_file: Path) -> None:
    execute(warehouse_file, BAD_OPERATION, [TENANT])
    with open_warehouse(warehouse_file) as db:
        whole = validate_raw(db, "money_rail_operations")
        own = validate_raw(db, "money_rail_operations", period="2026-09", tenant_id=TENANT)
        other_tenant = validate_raw(db, "money_rail_operations", period="2026-09", tenant_id=OTHER_TENANT)
        other_period = validate_raw(db, "money_rail_operations", period="2026-08", tenant_id=TENANT)

    for suite in (whole, own):
        failed = outcome(suite, SUBMITTED_AFTER_INITIATED)
        assert not suite.success and not failed.success and failed.blocking
        assert failed.unexpected_count == 1
        assert [o.check_id for o in suite.failures] == [SUBMITTED_AFTER_INITIATED]
        (example,) = failed.details["unexpected_examples"]
        assert example["_source_file"] == "manual/ops.jsonl" and example["_source_row"] == 1
        assert example["submitted_at"] == "2026-09-10T09:59:59"
        json.dumps(failed.details)  # small and JSON-serializable
    assert own.evaluated_rows < whole.evaluated_rows
    for suite in (other_tenant, other_period):
        assert suite.success and suite.evaluated_rows > 0
        assert outcome(suite, SUBMITTED_AFTER_INITIATED).unexpected_count == 0


def test_a_row_that_cannot_be_placed_fails_every_period_and_tenant(warehouse_file: Path) -> None:
    execute(
        warehouse_file,
        "insert into raw.money_rail_operations (provider_id, operation_id, tenant_id, direction, "
        "amount_cents, currency, state, updated_at, _source_file, _source_row) values ('wire_fedline', "
        "'op_nowhere', null, 'payout', 100, 'USD', 'initiated', '2026-09-01 00:00:00', 'manual/ops.csv', 1)",
    )
    with open_warehouse(warehouse_file) as db:
        for period, tenant in (("2026-08", TENANT), ("2026-10", OTHER_TENANT)):
            suite = validate_raw(db, "money_rail_operations", period=period, tenant_id=tenant)
            assert [o.check_id for o in suite.failures] == [
                "ge.money_rail_operations.tenant_id_not_null",
                "ge.money_rail_operations.initiated_at_not_null",
            ]
            assert all(o.blocking and o.unexpected_count == 1 for o in suite.failures)


def test_negative_amount_fails_the_amount_check(warehouse_file: Path) -> None:
    execute(
        warehouse_file,
        "insert into raw.payout_instructions (tenant_id, payout_key, party_id, party_role, period, "
        "amount_cents, currency, provider_id, created_at, _source_file, _source_row) values "
        "(?, 'pk_negative', 'agt_1', 'payee', '2026-09', -1, 'USD', 'wire_fedline', "
        "'2026-10-01 02:00:00', 'manual/instructions.csv', 1)",
        [TENANT],
    )
    with open_warehouse(warehouse_file) as db:
        suite = validate_raw(db, "payout_instructions", period="2026-09", tenant_id=TENANT)
    failed = outcome(suite, "ge.payout_instructions.amount_cents_non_negative")
    assert not suite.success and failed.blocking and failed.unexpected_count == 1
    assert failed.details["unexpected_examples"][0]["amount_cents"] == -1
    assert [o.check_id for o in suite.failures] == [failed.check_id]


def test_float_amounts_fail_the_integer_cents_check(warehouse_file: Path) -> None:
    execute(warehouse_file, "alter table raw.settlements alter amount_cents type double")
    with open_warehouse(warehouse_file) as db:
        suite = validate_raw(db, "settlements", period="2026-09", tenant_id=TENANT)
    failed = outcome(suite, "ge.settlements.amount_cents_is_integer")
    assert not failed.success and failed.blocking
    assert failed.unexpected_count == suite.evaluated_rows > 0


def test_a_period_without_rows_passes_with_zero_rows(generated: dict[str, Path]) -> None:
    with open_warehouse(generated["warehouse"]) as db:
        suites = validate_all(db, period="2031-01", tenant_id=TENANT)
        with pytest.raises(ValueError, match="YYYY-MM"):
            validate_raw(db, "settlements", period="2026-13")
    for suite in suites.values():
        assert suite.success and suite.evaluated_rows == 0
        assert all(o.success and o.evaluated_rows == 0 for o in suite.outcomes)
    # What the daily run reports, without asking GX, when a dataset has no new row: GX's own outcome.
    assert suites == {name: nothing_to_validate(name) for name in suites}


def test_rows_that_cannot_be_read_fail_closed(warehouse_file: Path) -> None:
    execute(warehouse_file, "alter table raw.stripe_events drop column livemode")
    with open_warehouse(warehouse_file) as db:
        suite = validate_raw(db, "stripe_events")
    assert not suite.success and len(suite.failures) == len(CHECKS["stripe_events"])
    assert all("livemode" in o.details["error"] for o in suite.outcomes)


def test_data_docs_are_written(generated: dict[str, Path], tmp_path: Path) -> None:
    with open_warehouse(generated["warehouse"]) as db:
        index = write_data_docs(tmp_path / "data_docs", warehouse=db, period="2026-09", tenant_id=TENANT)
    assert index == (tmp_path / "data_docs" / "index.html").resolve() and index.is_file()
    html = index.read_text()
    for name in CHECKS:
        assert f"raw.{name}" in html
    pages = list((tmp_path / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == len(CHECKS)
    assert any(SUBMITTED_AFTER_INITIATED in page.read_text() for page in pages)


@pytest.mark.slow
def test_the_dagster_asset_check_fails_the_landing_run_on_a_bad_row(
    generated: dict[str, Path], warehouse_file: Path, tmp_path: Path
) -> None:
    from orchestration.definitions import ASSETS, build_resources
    from orchestration.defs.quality.checks import CHECK_NAME

    execute(warehouse_file, BAD_OPERATION, [TENANT])
    settings = Settings(
        warehouse_url=str(warehouse_file), landing_dir=generated["landing"], artifacts_dir=tmp_path
    )
    result = dg.materialize(
        ASSETS,
        resources=build_resources(settings),
        selection=dg.AssetSelection.groups("landing"),
        raise_on_error=False,
    )
    assert not result.success
    evaluations = {
        e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations() if e.check_name == CHECK_NAME
    }
    assert sorted(evaluations) == sorted(CHECKS)
    bad = evaluations["money_rail_operations"]
    assert not bad.passed and bad.severity == dg.AssetCheckSeverity.ERROR and bad.blocking
    assert bad.metadata["failed_blocking_check_ids"].value == [SUBMITTED_AFTER_INITIATED]
    assert bad.metadata["unexpected_rows_by_check"].value == {SUBMITTED_AFTER_INITIATED: 1}
    for name in ("settlements", "payout_instructions", "stripe_events"):
        assert evaluations[name].passed, evaluations[name].metadata


@pytest.mark.postgres
def test_postgres_gives_the_same_outcomes_as_duckdb(
    generated: dict[str, Path], warehouse_file: Path, postgres_server_url: str
) -> None:
    import uuid

    from devtools.postgres_server import create_database

    database = create_database(postgres_server_url, f"settld_quality_{uuid.uuid4().hex[:10]}")
    postgres_url = database.replace("postgresql+psycopg://", "postgresql://")
    load_landing_zone(postgres_url, generated["landing"])
    with connect_warehouse(warehouse_target(postgres_url)) as db:
        db.query(BAD_OPERATION, [TENANT])
        on_postgres = validate_all(db, period="2026-09", tenant_id=TENANT)
    execute(warehouse_file, BAD_OPERATION, [TENANT])
    with open_warehouse(warehouse_file) as db:
        on_duckdb = validate_all(db, period="2026-09", tenant_id=TENANT)
    assert on_postgres == on_duckdb
    assert [o.check_id for o in on_postgres["money_rail_operations"].failures] == [SUBMITTED_AFTER_INITIATED]
