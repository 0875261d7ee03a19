"""Invoice drafts as artifacts: the pipeline writes one per tenant, period and currency, the same usage
gives the same bytes, a finalized invoice never changes, and late usage becomes an adjustment."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from reports.invoices import finalize, finalized_path, write_drafts
from settld.settings import warehouse_target
from settld.warehouse import connect as connect_warehouse

DRAFTS_DDL = """
create schema marts;
create table marts.fct_invoice_drafts (tenant_id varchar, period varchar, currency varchar, plan varchar,
    plan_source varchar, is_plan_currency boolean, line_count bigint, event_count bigint, events_digest varchar,
    subtotal_cents bigint);
create table marts.fct_invoice_draft_lines (tenant_id varchar, period varchar, currency varchar, line_code varchar,
    plan varchar, plan_source varchar, description varchar, quantity bigint, unit_amount_bps integer,
    source_event_count bigint, source_event_digest varchar, unit_amount_cents bigint,
    unit_amount_milli_cents bigint, amount_cents bigint);
"""


def _usage(con: duckdb.DuckDBPyConnection, *, volume_cents: int, digest: str) -> None:
    """The builder reference month of tenant t1 in 2026-10 (9,900 + 11 + 200), with a given volume."""
    fee = volume_cents * 75 // 10000
    con.execute("delete from marts.fct_invoice_drafts; delete from marts.fct_invoice_draft_lines")
    con.execute("insert into marts.fct_invoice_drafts values ('t1', '2026-10', 'USD', 'builder', 'configured', true, "
                "3, 3, ?, ?)", [digest, 9900 + fee + 200])  # fmt: skip
    lines = [
        ("SUBSCRIPTION_BASE", 1, None, 0, 9900, None, 9900),
        ("SETTLED_VOLUME_FEE", volume_cents, 75, 1, None, None, fee),
        ("ARBITRATION_USAGE_FEE", 1, None, 1, 200, None, 200),
    ]
    for code, quantity, bps, sources, unit, milli, amount in lines:
        con.execute("insert into marts.fct_invoice_draft_lines values ('t1', '2026-10', 'USD', ?, 'builder', "
                    "'configured', ?, ?, ?, ?, ?, ?, ?, ?)",
                    [code, code.lower(), quantity, bps, sources, digest, unit, milli, amount])  # fmt: skip


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(DRAFTS_DDL)
        _usage(con, volume_cents=1500, digest="a" * 64)
    return path


def _write(warehouse: Path, artifacts: Path):
    with connect_warehouse(warehouse_target(str(warehouse)), read_only=True) as db:
        return write_drafts(db.query, artifacts_dir=artifacts, periods=["2026-10"])


def test_drafts_are_content_addressed_finalized_once_and_late_usage_is_an_adjustment(
    warehouse: Path, tmp_path: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    first = _write(warehouse, artifacts)
    again = _write(warehouse, artifacts)
    assert len(first.written) == 1 and again.written == [] and again.unchanged == first.written
    draft = json.loads(first.written[0].read_text())
    assert draft["schemaVersion"] == "BillingInvoiceDraft.v1" and draft["status"] == "draft"
    assert draft["subtotalCents"] == 10_111
    assert [(i["code"], i["amountCents"]) for i in draft["lineItems"]] == [
        ("ARBITRATION_USAGE_FEE", 200), ("SETTLED_VOLUME_FEE", 11), ("SUBSCRIPTION_BASE", 9900)]  # fmt: skip
    assert "unitAmountBps" in draft["lineItems"][1] and "unitAmountCents" not in draft["lineItems"][1]

    closed_at = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    invoice, created = finalize(artifacts, draft, finalized_at=closed_at, verdict_hash="v" * 64)
    path = finalized_path(artifacts, "t1", "2026-10", "USD")
    original = path.read_bytes()
    assert created and invoice["status"] == "finalized" and invoice["draftHash"] == draft["draftHash"]
    # Finalizing again (a close after a reopen), even from another draft, changes nothing.
    _, created_again = finalize(artifacts, {**draft, "subtotalCents": 1}, finalized_at=datetime.now(UTC),
                                verdict_hash="w" * 64)  # fmt: skip
    assert not created_again and path.read_bytes() == original

    # A late settlement adds 2,000 cents of volume to the closed October: no new October draft, an
    # adjustment of the volume fee line into November.
    with duckdb.connect(str(warehouse)) as con:
        _usage(con, volume_cents=3500, digest="b" * 64)
    late = _write(warehouse, artifacts)
    assert late.written == [] and len(late.adjustments) == 1
    assert late.adjustments[0].parent == artifacts / "invoices" / "t1" / "2026-11" / "adjustments"
    adjustment = json.loads(late.adjustments[0].read_text())
    assert (
        adjustment["schemaVersion"] == "BillingInvoiceAdjustment.v1"
        and adjustment["adjustsPeriod"] == "2026-10"
    )
    assert adjustment["lineDeltas"] == [
        {"code": "SETTLED_VOLUME_FEE", "finalizedAmountCents": 11, "currentAmountCents": 26, "deltaCents": 15}]  # fmt: skip
    assert (
        adjustment["totalDeltaCents"] == 15 and adjustment["finalizedInvoiceHash"] == invoice["invoiceHash"]
    )
    assert path.read_bytes() == original
    assert sorted(p.name for p in (artifacts / "invoices" / "t1" / "2026-10").iterdir()) == [
        first.written[0].name, "USD-finalized.json"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.drill
@pytest.mark.xdist_group("pipeline")
def test_changing_one_settlement_changes_exactly_the_digests_of_the_lines_it_feeds(
    pipeline_run: dict, tmp_path: Path
) -> None:
    import shutil

    import dagster as dg

    from orchestration.as_of import AS_OF_TAG
    from orchestration.definitions import ASSETS, build_resources
    from orchestration.stages import STAGE_TAG, Stage
    from settld.settings import Settings

    warehouse, api = tmp_path / "warehouse.duckdb", tmp_path / "api.sqlite3"
    shutil.copy(pipeline_run["warehouse"], warehouse)
    shutil.copy(pipeline_run["root"] / "api.sqlite3", api)  # the Stripe plans come from its event store
    lines_sql = (
        "select tenant_id, period, currency, line_code, source_event_digest, amount_cents "
        "from marts.fct_invoice_draft_lines order by all"
    )
    with duckdb.connect(str(warehouse)) as con:
        before = {row[:4]: row[4:] for row in con.execute(lines_sql).fetchall()}
        tenant, settlement, period, currency = con.execute(
            "select tenant_id, settlement_id, resolved_period, currency from staging.stg_settlement_kernel__settlements "
            "where status = 'released' and released_amount_cents > 1 order by tenant_id, settlement_id limit 1"
        ).fetchone()
        # One cent moves from released to refunded: money stays conserved, the volume changes.
        con.execute(
            "update raw.settlements set released_amount_cents = released_amount_cents - 1, "
            "refunded_amount_cents = coalesce(refunded_amount_cents, 0) + 1 "
            "where tenant_id = ? and settlement_id = ?",
            [tenant, settlement],
        )
    settings = Settings(warehouse_url=str(warehouse), landing_dir=pipeline_run["landing"],
                        artifacts_dir=tmp_path / "artifacts", api_database_url=f"sqlite:///{api}")  # fmt: skip
    rebuilt = dg.materialize(ASSETS, resources=build_resources(settings),
                             selection=dg.AssetSelection.tag(STAGE_TAG, Stage.transform.value),
                             tags={AS_OF_TAG: pipeline_run["manifest"]["as_of"]}, raise_on_error=False)  # fmt: skip
    assert rebuilt.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = {row[:4]: row[4:] for row in con.execute(lines_sql).fetchall()}

    assert after.keys() == before.keys()
    changed = {key for key in before if before[key][0] != after[key][0]}
    assert changed == {(tenant, period, currency, "SETTLED_VOLUME_FEE")}
