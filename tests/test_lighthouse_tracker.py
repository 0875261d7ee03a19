"""The lighthouse tracker (quality/lighthouse.py): the old tracker's validation, and each active account's
production settlement checked against a real (small, crafted) DuckDB warehouse with the marts' columns."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from quality.lighthouse import SCHEMA, check_tracker, update_account
from quality.lighthouse_warehouse import settlement_facts
from settld.cli.main import app
from settld.settings import warehouse_target
from settld.warehouse import connect

KEY = "tnt_a:party:agt_payee_{n}:period:2026-10:statement:s{n}"
SETUP = """
create schema marts; create schema staging;
create table marts.fct_settlements (tenant_id varchar, settlement_id varchar, status varchar, is_resolved boolean,
    released_amount_cents bigint, dispute_status varchar, resolved_period varchar, payee_agent_id varchar);
create table staging.stg_settlement_kernel__payout_instructions (tenant_id varchar, payout_key varchar,
    party_id varchar, period varchar);
create table marts.fct_money_rail_operations (tenant_id varchar, payout_key varchar, direction varchar, state varchar);
create table marts.fct_reconciliation_mismatch_queue (tenant_id varchar, triage_key varchar, mismatch_key varchar,
    severity varchar, is_handled boolean);
"""


def settlement(db: duckdb.DuckDBPyConnection, n: int, *, tenant: str = "tnt_a", status: str = "released",
               dispute: str = "none", paid_out: bool = True, critical: bool | None = None) -> None:  # fmt: skip
    key = KEY.format(n=n)
    resolved = status != "locked"
    db.execute("insert into marts.fct_settlements values (?, ?, ?, ?, ?, ?, ?, ?)",
               [tenant, f"setl_{n}", status, resolved, 1000 if status == "released" else 0, dispute,
                "2026-10" if resolved else None, f"agt_payee_{n}"])  # fmt: skip
    db.execute("insert into staging.stg_settlement_kernel__payout_instructions values (?, ?, ?, ?)",
               [tenant, key, f"agt_payee_{n}", "2026-10"])  # fmt: skip
    db.execute("insert into marts.fct_money_rail_operations values (?, ?, 'payout', ?)",
               [tenant, key, "confirmed" if paid_out else "failed"])  # fmt: skip
    if critical is not None:
        db.execute("insert into marts.fct_reconciliation_mismatch_queue values (?, ?, ?, 'critical', ?)",
                   [tenant, f"tk_{n}", key, not critical])  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lighthouse") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute(SETUP)
        settlement(db, 1)  # good
        settlement(db, 2)  # good
        settlement(db, 3, critical=False)  # good: its critical mismatch is handled
        settlement(db, 4, tenant="tnt_b")  # another tenant's
        settlement(db, 5, status="locked")
        settlement(db, 6, status="refunded")
        settlement(db, 7, dispute="open")
        settlement(db, 8, paid_out=False)
        settlement(db, 9, critical=True)
    return path


def account(n: int, ref: str, *, status: str = "production_active", **fields: str) -> dict:
    return {"accountId": f"acct_{n}", "companyName": f"Company {n}", "owner": "launch@settld.example",
            "status": status, "tenantId": "tnt_a", "signedAt": "2026-09-01T00:00:00Z",
            "goLiveAt": "2026-10-01T00:00:00Z", "productionSettlementRef": ref, "notes": "", **fields}  # fmt: skip


def tracker(*accounts: dict, required: int = 3) -> dict:
    return {"schemaVersion": SCHEMA, "updatedAt": "2026-11-01T00:00:00Z", "requiredActiveAccounts": required,
            "accounts": list(accounts)}  # fmt: skip


def check(warehouse: Path, document: object) -> dict:
    with connect(warehouse_target(str(warehouse)), read_only=True) as db:
        return check_tracker(document, lambda ref: settlement_facts(db, ref))


def test_three_paid_reconciled_settlements_of_their_own_tenant_pass(warehouse: Path) -> None:
    result = check(warehouse, tracker(account(1, "setl_1"), account(2, "setl_2"), account(3, "setl_3"),
                                      account(4, "", status="targeting")))  # fmt: skip
    assert result["ok"], result
    assert (result["readyActiveAccounts"], result["activeAccounts"], result["totalAccounts"]) == (3, 3, 4)


@pytest.mark.parametrize(
    ("ref", "code"),
    [
        ("setl_4", "settlement_ref_other_tenant"),  # exists, but in tnt_b's books
        ("setl_404", "settlement_ref_not_found"),
        ("setl_5", "settlement_not_resolved"),
        ("setl_6", "settlement_not_paid"),
        ("setl_7", "settlement_dispute_open"),
        ("setl_8", "settlement_not_paid_out"),
        ("setl_9", "settlement_open_critical_mismatch"),
    ],
)
def test_a_reference_that_is_not_a_paid_reconciled_settlement_of_the_tenant_fails_with_its_code(
    warehouse: Path, ref: str, code: str
) -> None:
    result = check(warehouse, tracker(account(1, "setl_1"), account(2, "setl_2"), account(3, ref)))
    assert not result["ok"]
    assert result["errors"] == ["not_enough_ready_active_accounts"]
    assert result["incompleteActiveAccounts"] == ["acct_3"]
    assert result["accounts"][2]["errors"] == [code]


def test_the_old_trackers_validation(warehouse: Path) -> None:
    result = check(warehouse, tracker(
        account(1, "setl_1", signedAt="not a date"), account(2, "setl_2", goLiveAt="2026-08-01T00:00:00Z"),
        account(2, "setl_3", productionSettlementRef=""), account(4, "", status="churned"), required=1))  # fmt: skip
    by_account = [(a["accountId"], a["missing"], a["errors"]) for a in result["accounts"]]
    assert by_account == [
        ("acct_1", [], ["signedAt_invalid_iso"]),
        ("acct_2", [], ["goLiveAt_before_signedAt"]),
        ("acct_2", ["productionSettlementRef"], []),
        ("acct_4", [], ["status_unknown"]),
    ]
    assert result["errors"] == ["duplicate_account_id", "not_enough_ready_active_accounts"]
    assert check(warehouse, {"accounts": []})["errors"] == [
        "not_enough_ready_active_accounts",
        "tracker_schema_invalid",
    ]


def test_without_a_warehouse_no_account_is_ready() -> None:
    result = check_tracker(tracker(account(1, "setl_1"), required=1), None)
    assert result["errors"] == ["not_enough_ready_active_accounts", "warehouse_unavailable"]


def test_update_edits_existing_accounts_only() -> None:
    document = tracker(account(1, "setl_1", status="contracting"))
    updated = update_account(document, "acct_1", {"status": "go_live_scheduled"}, now="2026-11-02T00:00:00Z")
    assert (
        updated["accounts"][0]["status"] == "go_live_scheduled"
        and updated["updatedAt"] == "2026-11-02T00:00:00Z"
    )
    assert document["accounts"][0]["status"] == "contracting"
    for changes, code in (({"status": "won"}, "status_unknown"), ({"signedAt": "2026-13-01"}, "signedAt_invalid_iso"),
                          ({"companyName": "x"}, "field_not_updatable")):  # fmt: skip
        with pytest.raises(ValueError, match=code):
            update_account(document, "acct_1", changes, now="2026-11-02T00:00:00Z")
    with pytest.raises(ValueError, match="account_not_found"):
        update_account(document, "acct_9", {"status": "targeting"}, now="2026-11-02T00:00:00Z")


def test_the_cli_checks_updates_and_exits_by_the_verdict(warehouse: Path, tmp_path: Path) -> None:
    path = tmp_path / "tracker.json"
    path.write_text(json.dumps(tracker(account(1, "setl_1"), account(2, "setl_2"), account(3, "setl_4"))))
    runner = CliRunner()
    common = ["--tracker", str(path)]
    red = runner.invoke(
        app, ["lighthouse", "check", *common, "--warehouse", str(warehouse), "--out", str(tmp_path)]
    )
    assert red.exit_code == 1, red.output
    written = json.loads((tmp_path / "lighthouse-check.json").read_text())
    assert written["accounts"][2]["errors"] == ["settlement_ref_other_tenant"]
    fixed = runner.invoke(app, ["lighthouse", "update", "acct_3", *common, "--settlement-ref", "setl_3",
                                "--at", "2026-11-02T00:00:00Z"])  # fmt: skip
    assert fixed.exit_code == 0, fixed.output
    green = runner.invoke(
        app, ["lighthouse", "check", *common, "--warehouse", str(warehouse), "--out", str(tmp_path)]
    )
    assert green.exit_code == 0, green.output
    refused = runner.invoke(app, ["lighthouse", "update", "acct_3", *common, "--status", "won"])
    assert refused.exit_code == 2 and "status_unknown" in refused.output
