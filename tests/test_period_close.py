"""The period gate and close, end to end on the generated data: red while serious mismatches are untriaged,
a failing expectation or a failing dbt invariant; green and closable after triage; an evidence bundle that
verifies, is byte-identical when the same inputs close again, and fails verification when one byte changes.

The gate runs through its real CLI (`python -m settld.cli.main gate`, as CI and operators run it); the
close through the API over HTTP (ASGI) and through `settld period close`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from api.core.migrate import migrate_database
from api.core.settings import ApiSettings
from api.main import create_app
from orchestration.as_of import AS_OF_TAG
from orchestration.defs.gate.assets import VERDICTS_KEY
from orchestration.stages import STAGE_TAG, Stage
from quality.gate import evaluate
from settld.settings import Settings, warehouse_target
from settld.warehouse import connect as connect_warehouse
from tests.api.factories import Factory

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

TENANT, PERIOD = "tnt_acme", "2026-10"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _copy_run(pipeline_run: dict, root: Path) -> dict:
    """A private copy of the shared pipeline's warehouse and artifacts, with its own API database."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(pipeline_run["warehouse"], root / "warehouse.duckdb")
    shutil.copytree(pipeline_run["artifacts"], root / "artifacts")
    env = {
        "SETTLD_WAREHOUSE_URL": str(root / "warehouse.duckdb"),
        "SETTLD_ARTIFACTS_DIR": str(root / "artifacts"),
        "SETTLD_API_DATABASE_URL": f"sqlite:///{root / 'api.sqlite3'}",
        "SETTLD_LANDING_DIR": str(pipeline_run["landing"]),
    }
    migrate_database(env["SETTLD_API_DATABASE_URL"])
    return {
        "root": root,
        "env": env,
        "artifacts": root / "artifacts",
        "api_url": env["SETTLD_API_DATABASE_URL"],
    }


def _settings(run: dict) -> Settings:
    env = run["env"]
    return Settings(warehouse_url=env["SETTLD_WAREHOUSE_URL"], landing_dir=env["SETTLD_LANDING_DIR"],
                    artifacts_dir=env["SETTLD_ARTIFACTS_DIR"], api_database_url=env["SETTLD_API_DATABASE_URL"])  # fmt: skip


def _materialize(
    run: dict, pipeline_run: dict, selection: dg.AssetSelection, partition_key: str | None = None
) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import ASSETS, build_resources

    return dg.materialize(
        ASSETS,
        resources=build_resources(_settings(run)),
        selection=selection,
        partition_key=partition_key,
        tags={AS_OF_TAG: pipeline_run["manifest"]["as_of"]},
        raise_on_error=False,
    )


def _settld(run: dict, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **run["env"], "COLUMNS": "200"}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run([sys.executable, "-m", "settld.cli.main", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def _verdict(run: dict) -> dict:
    return json.loads((run["artifacts"] / "gates" / TENANT / f"{PERIOD}.json").read_text())


@pytest.fixture(scope="module")
def published(pipeline_run: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    run = _copy_run(pipeline_run, tmp_path_factory.mktemp("close") / "run")
    assert _materialize(
        run, pipeline_run, dg.AssetSelection.assets(["operator_api", "reconciliation_mismatches"])
    ).success
    run["token"] = Factory(run["api_url"]).key(TENANT, "finance_read", "finance_write")
    return run


def _client(run: dict) -> TestClient:
    return TestClient(create_app(ApiSettings(database_url=run["api_url"], artifacts_dir=run["artifacts"])))


def _close(client: TestClient, run: dict, **headers: str):
    return client.post(f"/ops/finance/periods/{PERIOD}/close",
                       headers={"Authorization": f"Bearer {run['token']}", **headers})  # fmt: skip


def test_untriaged_serious_mismatches_keep_the_gate_red_and_the_close_refused(published: dict) -> None:
    gate = _settld(published, "gate", "--period", PERIOD, "--tenant", TENANT)
    assert gate.returncode == 1, gate.stdout + gate.stderr
    verdict = _verdict(published)
    assert verdict["schemaVersion"] == "PeriodGateVerdict.v1" and verdict["verdict"]["ok"] is False
    # the sample's GL and escrow problems of the month are in the queue too (tests/test_finance_integrity.py)
    failing = ["finance.escrow_net_close_passes", "finance.gl_ties_out_with_statements",
               "reconciliation.serious_mismatches_handled"]  # fmt: skip
    assert verdict["verdict"]["failingCheckIds"] == failing
    assert {c["id"] for c in verdict["checks"]} >= {"dbt.tests_passed", "reconciliation.tieout_explained",
                                                    "ge.money_rail_operations.submitted_after_initiated"}  # fmt: skip
    with _client(published) as client:
        refused = _close(client, published)
    assert refused.status_code == 409
    assert refused.json()["code"] == "PERIOD_GATE_FAILED"
    assert refused.json()["failing_check_ids"] == failing
    # The drafts the verdict names are not finalized by a refused close.
    assert verdict["inputs"]["invoiceDrafts"] and "billing.invoice_drafts_present" in {
        c["id"] for c in verdict["checks"]
    }
    assert not list((published["artifacts"] / "invoices" / TENANT / PERIOD).glob("*-finalized.json"))


def test_after_triage_the_period_closes_once_with_a_verifiable_reproducible_bundle(
    published: dict, pipeline_run: dict
) -> None:
    headers = {"Authorization": f"Bearer {published['token']}"}
    with _client(published) as client:
        queue = client.get("/ops/finance/reconciliation/queue", headers=headers,
                           params={"period": PERIOD, "limit": 500}).json()  # fmt: skip
        serious = [i for i in queue["items"] if i["severity"] in ("critical", "high")]
        assert serious
        for item in serious:
            response = client.post("/ops/finance/reconciliation/triage", headers=headers,
                                   json={"triage_key": item["triage_key"], "status": "dismissed",
                                         "owner": "finance-oncall", "resolution": "Confirmed with the rail"})  # fmt: skip
            assert response.status_code == 200, response.text

        # The daily run's gate is green too, but it reused the suites' passes of unchanged files (the
        # run validated them as they arrived): its verdict says so, and cannot close the period.
        daily = _materialize(published, pipeline_run, dg.AssetSelection.assets(VERDICTS_KEY), PERIOD)
        assert daily.success
        assert _verdict(published)["verdict"]["ok"] is True
        assert _verdict(published)["geValidation"] == "reused_passes"
        refused = _close(client, published)
        assert refused.status_code == 409, refused.text
        assert refused.json()["failing_check_ids"] == ["gate.not_validated_in_full"]
        assert "settld gate --period 2026-10" in refused.json()["detail"]

        gate = _settld(published, "gate", "--period", PERIOD, "--tenant", TENANT)
        assert gate.returncode == 0, gate.stdout + gate.stderr
        assert "geValidation" not in _verdict(published)  # every row of the period validated
        # Green; the sample zone's malformed rows on purpose are a warning (under every file's threshold).
        assert _verdict(published)["verdict"] == {
            "ok": True, "failingCheckIds": [], "warningCheckIds": ["landing.no_quarantined_rows"]
        }  # fmt: skip

        first = _close(client, published, **{"Idempotency-Key": "close-1"})
        assert first.status_code == 200, first.text
        record = first.json()["close"]
        assert first.json()["changed"] is True and record["status"] == "closed" and record["revision"] == 1
        again = _close(client, published)
        assert (
            again.status_code == 200 and again.json()["changed"] is False and again.json()["close"] == record
        )

        bundle = published["artifacts"] / record["bundle_file"]
        original = bundle.read_bytes()
        # The close finalized the drafts the verdict named, and the bundle holds drafts and invoices.
        invoices = published["artifacts"] / "invoices" / TENANT / PERIOD
        named = _verdict(published)["inputs"]["invoiceDrafts"]
        finalized = {d["currency"]: invoices / f"{d['currency']}-finalized.json" for d in named}
        for draft in named:
            invoice = json.loads(finalized[draft["currency"]].read_text())
            assert invoice["status"] == "finalized" and invoice["draftHash"] == draft["draftHash"]
            assert invoice["subtotalCents"] == draft["subtotalCents"]
        finalized_bytes = {currency: path.read_bytes() for currency, path in finalized.items()}
        with zipfile.ZipFile(bundle) as archive:
            names = set(archive.namelist())
        assert {f"invoices/{d['file']}" for d in named} | {
            f"invoices/{p.name}" for p in finalized.values()
        } <= names
        # Both finance reports of the month, as the verdict names them.
        assert {f"finance/{entry['file']}" for entry in _verdict(published)["inputs"]["financeReports"]} == {
            name for name in names if name.startswith("finance/")
        } and {name.split("/")[1].split("-")[0] for name in names if name.startswith("finance/")} == {
            "FinanceReconciliationReport.v1", "EscrowNetCloseSnapshot.v1"
        }  # fmt: skip
        verified = _settld(published, "evidence", "verify", str(bundle))
        assert verified.returncode == 0, verified.stdout

        no_reason = client.post(
            f"/ops/finance/periods/{PERIOD}/reopen", headers=headers, json={"reason": " "}
        )
        assert no_reason.status_code == 422
        reopened = client.post(f"/ops/finance/periods/{PERIOD}/reopen", headers=headers,
                               json={"reason": "Late rail export for October"})  # fmt: skip
        assert reopened.status_code == 200 and reopened.json()["close"]["status"] == "reopened"

    # Closing again from the same inputs, through the CLI this time: the same bundle, byte for byte.
    closed = _settld(published, "period", "close", PERIOD, "--tenant", TENANT)
    assert closed.returncode == 0, closed.stdout + closed.stderr
    assert bundle.read_bytes() == original
    assert {
        currency: path.read_bytes() for currency, path in finalized.items()
    } == finalized_bytes  # never rewritten
    with _client(published) as client:
        period = client.get(f"/ops/finance/periods/{PERIOD}", headers=headers).json()
        audit = client.get("/ops/audit", headers=headers, params={"target_type": "period"}).json()
    assert period["close"]["revision"] == 3 and period["close"]["bundle_sha256"] == record["bundle_sha256"]
    assert [entry["action"] for entry in audit["items"]].count("period.close") == 2

    # One changed byte anywhere (compressed data, a header, the central directory) fails verification
    # with a reason, never a crash.
    for position in (40, len(original) // 3, len(original) // 2, len(original) - 30):
        tampered = bundle.with_name(f"tampered-{position}-" + bundle.name)
        data = bytearray(original)
        data[position] ^= 0x01
        tampered.write_bytes(bytes(data))
        failed = _settld(published, "evidence", "verify", str(tampered))
        assert failed.returncode == 1 and "FAILED" in failed.stdout, (position, failed.stdout + failed.stderr)
        assert "Traceback" not in failed.stderr


def test_a_failing_expectation_turns_the_gate_red_with_its_check_id(
    pipeline_run: dict, tmp_path: Path
) -> None:
    run = _copy_run(pipeline_run, tmp_path / "run")
    with duckdb.connect(run["env"]["SETTLD_WAREHOUSE_URL"]) as con:
        con.execute(
            "insert into raw.money_rail_operations select * replace (operation_id || '-late' as operation_id, "
            "initiated_at + interval 2 day as initiated_at, initiated_at as submitted_at) "
            "from raw.money_rail_operations where tenant_id = ? and submitted_at is not null "
            "and initiated_at >= timestamp '2026-10-01' and initiated_at < timestamp '2026-10-20' limit 1",
            [TENANT],
        )
    with connect_warehouse(warehouse_target(run["env"]["SETTLD_WAREHOUSE_URL"]), read_only=True) as db:
        verdict = evaluate(db, tenant_id=TENANT, period=PERIOD, artifacts_dir=run["artifacts"])
    assert "ge.money_rail_operations.submitted_after_initiated" in verdict["verdict"]["failingCheckIds"]
    check = next(
        c for c in verdict["checks"] if c["id"] == "ge.money_rail_operations.submitted_after_initiated"
    )
    assert check["details"]["unexpectedCount"] == 1


@pytest.mark.drill
def test_a_failing_dbt_invariant_turns_the_gate_red_with_the_test_id(
    pipeline_run: dict, tmp_path: Path
) -> None:
    run = _copy_run(pipeline_run, tmp_path / "run")
    with duckdb.connect(run["env"]["SETTLD_WAREHOUSE_URL"]) as con:
        changed = con.execute(
            "update raw.settlements set released_amount_cents = released_amount_cents + 1 "
            "where (tenant_id, settlement_id) in (select tenant_id, settlement_id from raw.settlements "
            "where tenant_id = ? and status = 'released' order by settlement_id limit 1)",
            [TENANT],
        ).fetchone()[0]
    assert changed >= 1
    rebuilt = _materialize(run, pipeline_run, dg.AssetSelection.tag(STAGE_TAG, Stage.transform.value))
    assert not rebuilt.success  # the invariant's dbt test fails the build ...
    with connect_warehouse(warehouse_target(run["env"]["SETTLD_WAREHOUSE_URL"]), read_only=True) as db:
        verdict = evaluate(db, tenant_id=TENANT, period=PERIOD, artifacts_dir=run["artifacts"])
    failing = verdict["verdict"]["failingCheckIds"]  # ... and the gate says which test
    assert "dbt.tests_passed" in failing
    assert "dbt.resolved_money_is_conserved_fct_settlements_" in failing
