"""The marketplace end to end (a drill: it runs the pipeline): a generated landing zone, a marketplace
history consistent with its settlements seeded into the operator API's database, one `settld run`. The
agreement-to-settlement reconciliation finds exactly the injected mismatches, publishes them to the triage
queue, and the funnel and listing marts are built from the same history."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from devtools.sample_data.marketplace import seed_marketplace

pytestmark = pytest.mark.drill


def test_the_injected_agreement_mismatches_are_found_and_nothing_else(tmp_path: Path, monkeypatch) -> None:
    from settld.cli.main import app

    landing, warehouse, api = tmp_path / "landing", tmp_path / "warehouse.duckdb", tmp_path / "api.sqlite3"
    api_url = f"sqlite:///{api}"
    monkeypatch.setenv("SETTLD_API_DATABASE_URL", api_url)
    monkeypatch.setenv("SETTLD_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    runner = CliRunner()
    generated = runner.invoke(app, ["generate", "--out", str(landing), "--tenants", "3", "--seed", "11"])
    assert generated.exit_code == 0, generated.output
    assert runner.invoke(app, ["api", "migrate"]).exit_code == 0
    seeded = seed_marketplace(landing, api_url)
    assert json.loads((landing / "marketplace_manifest.json").read_text()) == seeded
    injected = {
        (r["tenant_id"], r["period"], r["mismatch_type"], r["mismatch_key"]) for r in seeded["injected"]
    }
    assert {key[2] for key in injected} == {"agreement_missing_settlement", "agreement_amount_mismatch"}
    assert seeded["rows"]["marketplace_agreements"] > 10 * len(injected)

    run = runner.invoke(
        app, ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "manifest"]
    )
    assert run.exit_code in (0, 1), run.output  # 1: the gate is red (the sample's serious mismatches)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = set(con.execute(
            "select tenant_id, period, mismatch_type, mismatch_key from marts.fct_marketplace_agreement_mismatches"
        ).fetchall())  # fmt: skip
        agreements = con.execute(
            "select count(*) from staging.stg_operator_api__marketplace_agreements"
        ).fetchone()[0]
        funnel = dict(con.execute(
            "select step, sum(reached_rfqs) from marts.fct_marketplace_funnel group by step").fetchall())  # fmt: skip
        listings = con.execute("select count(*), sum(rfqs) from marts.fct_listing_performance").fetchone()
    finally:
        con.close()
    assert found == injected
    assert agreements == seeded["rows"]["marketplace_agreements"]
    assert funnel["rfq_posted"] == seeded["rows"]["marketplace_rfqs"]
    assert funnel["accepted"] == agreements
    assert funnel["settlement_locked"] == agreements - sum(
        1 for k in injected if k[2] == "agreement_missing_settlement"
    )
    assert funnel["bid_received"] == funnel["rfq_posted"] - 3  # one open RFQ per tenant has no bid
    assert listings[0] == 6 and listings[1] == agreements  # two revisions per tenant; traded RFQs pin one

    engine = create_engine(api_url)
    with engine.connect() as connection:
        published = set(connection.execute(text(
            "select tenant_id, period, mismatch_type, mismatch_key from reconciliation_mismatches "
            "where source_type = 'marketplace_agreement' and cleared_at is null")).fetchall())  # fmt: skip
    engine.dispose()
    assert published == injected
