"""The whole pipeline on Postgres gives the same answers as on DuckDB, and reads triage from the API's schema.

The DuckDB side is the shared `pipeline_run` (settld generate + settld run); the Postgres side runs
`settld run` on the same landing zone and as-of time into a fresh database of the session's throwaway
server, with the operator API in the same database (schema `operator_api`), as production is laid out.
"""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from typer.testing import CliRunner

from api.core.settings import ApiSettings
from api.main import create_app
from devtools.postgres_server import create_database
from orchestration.as_of import AS_OF_TAG
from settld.cli.main import app
from settld.settings import Settings, warehouse_target
from settld.warehouse import connect as connect_warehouse
from tests.api.factories import Factory
from tests.warehouse_snapshots import snapshot_files, warehouse_contents

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("pipeline")]

QUEUE_ASSETS = [
    dg.AssetKey(["staging", "stg_operator_api__reconciliation_triage"]),
    dg.AssetKey(["marts", "fct_reconciliation_mismatch_queue"]),
]


def _first_difference(left: list[tuple], right: list[tuple]) -> Any:
    return next(((a, b) for a, b in zip(left, right, strict=False) if a != b), (len(left), len(right)))


@pytest.fixture(scope="module")
def postgres_run(
    pipeline_run: dict, postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    database = create_database(postgres_server_url, f"settld_{uuid.uuid4().hex[:10]}")
    warehouse_url = database.replace("postgresql+psycopg://", "postgresql://")
    api_url = database + "?options=-csearch_path%3Doperator_api"
    artifacts = tmp_path_factory.mktemp("postgres-artifacts")
    run_args = [
        "run",
        "--landing",
        str(pipeline_run["landing"]),
        "--warehouse",
        warehouse_url,
        "--as-of",
        "manifest",
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SETTLD_ARTIFACTS_DIR", str(artifacts))
        patch.setenv("SETTLD_API_DATABASE_URL", api_url)
        migrated = CliRunner().invoke(app, ["api", "migrate"])  # the deploy step, then the run
        assert migrated.exit_code == 0, migrated.output
        seeded = CliRunner().invoke(app, ["api", "seed-policies", "--landing", str(pipeline_run["landing"])])
        assert seeded.exit_code == 0, seeded.output  # the same policy registry as the DuckDB side
        result = CliRunner().invoke(app, run_args)
    assert result.exit_code == 0, result.output
    return {
        "warehouse_url": warehouse_url,
        "api_url": api_url,
        "artifacts": artifacts,
        "output": result.output,
    }


def test_every_table_and_view_holds_the_same_rows_on_both_engines(
    pipeline_run: dict, postgres_run: dict
) -> None:
    with connect_warehouse(warehouse_target(str(pipeline_run["warehouse"])), read_only=True) as db:
        duck = warehouse_contents(db)
    with connect_warehouse(warehouse_target(postgres_run["warehouse_url"]), read_only=True) as db:
        postgres = warehouse_contents(db)
    assert sorted(postgres) == sorted(duck)
    for mart in (
        "fct_reconciliation_mismatches",
        "fct_finance_reconciliation_mismatches",
        "fct_escrow_net_close",
    ):
        assert duck.get(f"marts.{mart}"), mart  # the parity below covers them, with rows
    different = {
        name: _first_difference(duck[name], postgres[name]) for name in duck if duck[name] != postgres[name]
    }
    assert different == {}


def test_reports_are_byte_identical_on_both_engines(pipeline_run: dict, postgres_run: dict) -> None:
    files = snapshot_files(postgres_run["artifacts"])
    assert files and files == pipeline_run["artifact_files"]


def test_the_run_published_into_the_api_schema_and_the_queue_reads_triage_from_it(
    pipeline_run: dict, postgres_run: dict, tmp_path: Path
) -> None:
    from orchestration.definitions import ASSETS, build_resources

    target = warehouse_target(postgres_run["warehouse_url"])
    with connect_warehouse(target) as db:
        critical = db.scalar(
            "select triage_key from marts.fct_reconciliation_mismatches where tenant_id = 'tnt_acme' "
            "and severity = 'critical' order by triage_key limit 1"
        )
        total = db.scalar(  # money-rail, billing and finance findings share the queue
            "select (select count(*) from marts.fct_reconciliation_mismatches) "
            "+ (select count(*) from marts.fct_billing_invoice_mismatches) "
            "+ (select count(*) from marts.fct_finance_reconciliation_mismatches)"
        )
        published = db.scalar("select count(*) from operator_api.reconciliation_mismatches")
    assert published == total  # the API's tables live in the warehouse database, schema operator_api

    token = Factory(postgres_run["api_url"]).key("tnt_acme", "finance_read", "finance_write")
    with TestClient(create_app(ApiSettings(database_url=postgres_run["api_url"]))) as client:
        response = client.post(
            "/ops/finance/reconciliation/triage",
            headers={"Authorization": f"Bearer {token}"},
            json={"triage_key": critical, "status": "dismissed", "owner": "finance-oncall",
                  "resolution": "Duplicate export from the rail, confirmed with the provider"},
        )  # fmt: skip
        assert response.status_code == 200, response.text

    settings = Settings(
        warehouse_url=postgres_run["warehouse_url"],
        landing_dir=pipeline_run["landing"],
        artifacts_dir=tmp_path,
        api_database_url=postgres_run["api_url"],
    )
    rebuilt = dg.materialize(
        ASSETS,
        resources=build_resources(settings),
        selection=dg.AssetSelection.assets(*QUEUE_ASSETS),
        tags={AS_OF_TAG: pipeline_run["manifest"]["as_of"]},
    )
    assert rebuilt.success
    with connect_warehouse(target) as db:
        triaged = db.query(
            "select triage_key, triage_status, owner, is_handled from marts.fct_reconciliation_mismatch_queue "
            "where has_triage"
        )
    assert triaged == [
        {"triage_key": critical, "triage_status": "dismissed", "owner": "finance-oncall", "is_handled": True}
    ]
