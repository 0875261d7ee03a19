"""A verdict moves money through the whole stack: after the pipeline run, a dispute on a settlement the run
published goes to arbitration, a verdict of 33 % is closed, and `settld dbt build` on a copy of the run
shows it in fct_settlements, the invoice draft of the settlement's month, the payouts reconciliation must
expect, and the arbitration queue; another tenant's key sees none of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import create_engine, text

from api.core.settings import ApiSettings
from api.main import create_app
from settld.cli.run_record import RECORD_FILE
from tests.api.factories import Factory, auth

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

REPO_ROOT = Path(__file__).resolve().parent.parent
VERDICT = {"outcome": "partial", "release_rate_pct": 33, "rationale": "One third delivered."}


def _rows(warehouse: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.mark.slow
@pytest.mark.drill
@pytest.mark.xdist_group("pipeline")
def test_a_verdict_reaches_settlements_invoices_and_reconciliation(
    pipeline_run: dict, tmp_path: Path
) -> None:
    record = json.loads((pipeline_run["root"] / RECORD_FILE).read_text())
    as_of = datetime.fromisoformat(record["asOf"]).replace(tzinfo=UTC)
    warehouse, api_db = tmp_path / "warehouse.duckdb", tmp_path / "api.sqlite3"
    shutil.copy(pipeline_run["warehouse"], warehouse)
    shutil.copy(pipeline_run["root"] / "api.sqlite3", api_db)
    dbt_vars = {**record["dbtVars"], "operator_api_sqlite_path": str(api_db.resolve())}
    (tmp_path / RECORD_FILE).write_text(
        json.dumps({**record, "warehouse": str(warehouse.resolve()), "dbtVars": dbt_vars})
    )
    url = f"sqlite:///{api_db}"
    acted_at = as_of - timedelta(hours=2)
    with create_engine(url).connect() as connection:  # a released settlement whose window is still open
        tenant_id, settlement_id, amount, released, period = connection.execute(text(
            "select tenant_id, settlement_id, amount_cents, released_amount_cents, "
            "strftime('%Y-%m', resolved_at) from arbitration_settlements "
            "where status = 'released' and dispute_window_ends_at > :t and resolved_at < :t "
            "order by amount_cents desc, settlement_id limit 1"
        ), {"t": acted_at.replace(tzinfo=None)}).one()  # fmt: skip
    factory = Factory(url)
    token, other = (
        factory.key(tenant_id, "finance_read", "finance_write"),
        factory.key("tnt_nobody", "finance_read"),
    )
    app = create_app(ApiSettings(database_url=url))
    app.state.clock = lambda: acted_at
    with TestClient(app) as client:
        opened = client.post(f"/ops/settlements/{settlement_id}/disputes", json={"evidence_refs": ["ev:1"]},
                             headers=auth(token))  # fmt: skip
        assert opened.status_code == 201, opened.text
        case = client.post("/ops/arbitration/cases", headers=auth(token),
                           json={"settlement_id": settlement_id, "panel_candidate_agent_ids": ["arb_a", "arb_b"]})  # fmt: skip
        case_id = case.json()["case"]["case_id"]
        assert (
            client.post(
                f"/ops/arbitration/cases/{case_id}/verdict", json=VERDICT, headers=auth(token)
            ).status_code
            == 200
        )
        closed = client.post(f"/ops/arbitration/cases/{case_id}/close", json={}, headers=auth(token))
        assert closed.status_code == 200, closed.text
        assert client.get(f"/ops/arbitration/cases/{case_id}", headers=auth(other)).status_code == 404
        assert client.get("/ops/arbitration/queue", headers=auth(other)).json()["count"] == 0
    expected_release = amount * 33 // 100

    env = {key: value for key, value in os.environ.items() if not key.startswith("SETTLD_")}
    env.update(SETTLD_WAREHOUSE_URL=str(warehouse), SETTLD_HOME=str(tmp_path))
    built = subprocess.run(
        [sys.executable, "-m", "settld.cli.main", "dbt", "build", "--target-path", str(tmp_path / "target")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]

    assert _rows(warehouse, "select released_amount_cents, adjusted_released_amount_cents, "
                 "adjusted_refunded_amount_cents, has_adjustment from marts.fct_settlements "
                 "where tenant_id = ? and settlement_id = ?", tenant_id, settlement_id) == [
        (released, expected_release, amount - expected_release, True)]  # fmt: skip
    assert _rows(warehouse, "select count(*) from marts.fct_settlements where has_adjustment") == [(1,)]
    volume = "select amount_cents from intermediate.int_billing__usage_events where event_key = ?"
    assert _rows(warehouse, volume, f"settled_volume:{settlement_id}") == [(expected_release,)]
    arbitration = "select count(*) from intermediate.int_billing__usage_events where event_key = ?"
    assert _rows(warehouse, arbitration, f"arbitration_usage:{settlement_id}") == [(1,)]
    drafts = "select currency, events_digest from marts.fct_invoice_drafts where tenant_id = ? and period = ?"
    with duckdb.connect(str(pipeline_run["warehouse"]), read_only=True) as before:
        original = before.execute(drafts, [tenant_id, period]).fetchall()
    assert _rows(warehouse, drafts, tenant_id, period) != original  # the draft of that month bills anew
    payee = _rows(warehouse, "select party_role, adjustment_delta_cents, is_payout_following_adjustment "
                  "from marts.fct_arbitration_payout_expectations where tenant_id = ? order by party_role", tenant_id)  # fmt: skip
    assert payee == [
        ("payee", expected_release - released, False),
        ("payer", released - expected_release, False),
    ]
    assert _rows(warehouse, "select case_id, status, tenant_id from marts.fct_arbitration_queue") == [
        (case_id, "closed", tenant_id)]  # fmt: skip
