"""Triage flows back: mismatches published into the operator API, triaged over HTTP, and seen again by
the warehouse's queue mart on the next dbt build (DuckDB attaching the API's SQLite file)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from api.core.migrate import migrate_database
from api.core.settings import ApiSettings
from api.main import create_app
from orchestration.as_of import AS_OF_TAG
from settld.settings import Settings
from tests.api.factories import Factory

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

QUEUE_ASSETS = [
    dg.AssetKey(["staging", "stg_operator_api__reconciliation_triage"]),
    dg.AssetKey(["marts", "fct_reconciliation_mismatch_queue"]),
]


def test_published_mismatches_are_triaged_and_the_queue_mart_sees_it(
    pipeline_run: dict, tmp_path: Path
) -> None:
    from orchestration.definitions import ASSETS, build_resources

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(pipeline_run["warehouse"], warehouse)  # leave the shared pipeline's warehouse untouched
    api_url = f"sqlite:///{tmp_path / 'settld-api.sqlite3'}"
    migrate_database(api_url)
    settings = Settings(
        warehouse_url=str(warehouse),
        landing_dir=pipeline_run["landing"],
        artifacts_dir=tmp_path,
        api_database_url=api_url,
    )
    tags = {AS_OF_TAG: pipeline_run["manifest"]["as_of"]}

    published = dg.materialize(
        ASSETS,
        resources=build_resources(settings),
        selection=dg.AssetSelection.assets(["operator_api", "reconciliation_mismatches"]),
        tags=tags,
    )
    metadata = published.asset_materializations_for_node("operator_api__reconciliation_mismatches")[
        0
    ].metadata
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (critical,) = con.execute(
            "select triage_key from marts.fct_reconciliation_mismatches where tenant_id = 'tnt_acme' "
            "and severity = 'critical' order by triage_key limit 1"
        ).fetchone()
        total = con.execute("select count(*) from marts.fct_reconciliation_mismatches").fetchone()[0]
        billing = con.execute("select count(*) from marts.fct_billing_invoice_mismatches").fetchone()[0]
        finance = con.execute("select count(*) from marts.fct_finance_reconciliation_mismatches").fetchone()[
            0
        ]
    # money-rail, billing and finance findings share the queue
    assert metadata["inserted"].value == total + billing + finance

    token = Factory(api_url).key("tnt_acme", "finance_read", "finance_write")
    with TestClient(create_app(ApiSettings(database_url=api_url))) as client:
        response = client.post(
            "/ops/finance/reconciliation/triage",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "triage_key": critical,
                "status": "resolved",
                "owner": "finance-oncall",
                "resolution": "Paid manually by wire on 2026-11-02",
            },  # fmt: skip
        )
        assert response.status_code == 200, response.text

    rebuilt = dg.materialize(
        ASSETS,
        resources=build_resources(settings),
        selection=dg.AssetSelection.assets(*QUEUE_ASSETS),
        tags=tags,
    )
    assert rebuilt.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select triage_key, triage_status, owner, is_handled from marts.fct_reconciliation_mismatch_queue "
            "where triage_status <> 'open' or has_triage"
        ).fetchall()
        untriaged = con.execute(
            "select count(*) from marts.fct_reconciliation_mismatch_queue where not has_triage"
        ).fetchone()[0]
    assert rows == [(critical, "resolved", "finance-oncall", True)]
    assert untriaged == total - 1
