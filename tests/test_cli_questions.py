"""The three questions from the shell (issue 31): `settld mismatches`, `settld invoices` and `settld gate`
as tables that never cut an id or a path (even on an 80-column pipe) and as `--json`, with money in major
units computed exactly from integer cents; `settld period close` ends with the bundle's full path."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from settld.money import minor_unit_digits
from tests.demo_home import demo_environment, demo_home

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]
TENANT, PERIOD = "tnt_acme", "2026-10"


@pytest.fixture(scope="module")
def home(pipeline_run: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_home(pipeline_run, tmp_path_factory.mktemp("questions") / "clone")


def _settld(home: Path, *args: str, code: int = 0) -> str:
    env = {**demo_environment(home), "COLUMNS": "80"}
    done = subprocess.run([str(home / ".venv" / "bin" / "settld"), *args], cwd=home, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == code, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _exact(major: str | None, cents: int | None, currency: str) -> bool:
    if cents is None:
        return major is None
    return Decimal(major) * 10 ** minor_unit_digits(currency) == cents and "e" not in major.lower()


def test_mismatches_list_every_published_source_with_full_keys_meaning_and_exact_amounts(home: Path) -> None:
    rows = json.loads(_settld(home, "mismatches", "--period", PERIOD, "--json"))
    assert {row["source_type"] for row in rows} == {
        "money_rails_reconcile", "billing_invoice_compare", "finance_reconcile", "escrow_net_close"
    }  # fmt: skip
    for row in rows:
        assert row["period"] == PERIOD and row["triage_key"].startswith("frt_") and row["meaning"]
        assert _exact(row["expected_amount"], row["expected_amount_cents"], row["currency"])
        assert _exact(
            row["actual_amount"], row["actual_amount_cents"], row["actual_currency"] or row["currency"]
        )
    table = _settld(home, "mismatches", "--period", PERIOD, "--tenant", TENANT)
    own = [row for row in rows if row["tenant_id"] == TENANT]
    assert own and all(row["triage_key"] in table for row in own)  # whole, on an 80-column pipe
    assert all(row["meaning"].split(":")[0].split()[0] in table for row in own)
    serious = json.loads(_settld(home, "mismatches", "--period", PERIOD, "--tenant", TENANT, "--severity", "critical",
                                 "--severity", "high", "--unhandled", "--json"))  # fmt: skip
    assert serious and {row["severity"] for row in serious} <= {"critical", "high"}


def test_invoices_show_each_tenants_drafts_with_lines_that_add_up(home: Path) -> None:
    invoices = json.loads(_settld(home, "invoices", "--period", PERIOD, "--json"))
    assert {row["tenant_id"] for row in invoices} >= {TENANT}
    for invoice in invoices:
        assert invoice["status"] == "draft" and Path(invoice["file"]).is_file()
        assert sum(line["amountCents"] for line in invoice["lines"]) == invoice["subtotal_cents"]
        assert _exact(invoice["subtotal"], invoice["subtotal_cents"], invoice["currency"])
    table = _settld(home, "invoices", "--period", PERIOD, "--tenant", TENANT)
    assert all(
        invoice["file"] in table.splitlines() for invoice in invoices if invoice["tenant_id"] == TENANT
    )


def test_gate_json_names_every_check_and_file_in_full_and_the_close_prints_a_verifiable_path(
    home: Path,
) -> None:
    red = json.loads(_settld(home, "gate", "--period", PERIOD, "--tenant", TENANT, "--json", code=1))
    assert (
        red[0]["ok"] is False and "reconciliation.serious_mismatches_handled" in red[0]["failing_check_ids"]
    )
    table = _settld(home, "gate", "--period", PERIOD, "--tenant", TENANT, code=1)
    assert (
        "reconciliation.serious_mismatches_handled" in table and red[0]["verdict_file"] in table.splitlines()
    )
    keys = [row["triage_key"] for row in json.loads(_settld(home, "mismatches", "--period", PERIOD, "--tenant", TENANT,
                                                            "--severity", "critical", "--severity", "high", "--json"))]  # fmt: skip
    _settld(
        home,
        "triage",
        *keys,
        "--tenant",
        TENANT,
        "--status",
        "resolved",
        "--resolution",
        "Checked with the rail",
    )
    green = json.loads(_settld(home, "gate", "--period", PERIOD, "--tenant", TENANT, "--json"))
    assert green[0]["ok"] is True and Path(green[0]["verdict_file"]).is_file()
    bundle = _settld(home, "period", "close", PERIOD, "--tenant", TENANT).splitlines()[-1]
    assert Path(bundle).is_absolute() and Path(bundle).is_file()
    assert _settld(home, "evidence", "verify", bundle).startswith("OK ")
    invoices = json.loads(_settld(home, "invoices", "--period", PERIOD, "--tenant", TENANT, "--json"))
    assert {invoice["status"] for invoice in invoices} == {"finalized"}
