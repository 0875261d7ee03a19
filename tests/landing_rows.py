"""Small hand-written landing rows in the source contracts, for loader tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import polars as pl

from ingestion.contracts import DATASETS

SETTLEMENT = {
    "tenant_id": "tnt_a",
    "settlement_id": "setl_r1",
    "run_id": "r1",
    "payer_agent_id": "agt_payer",
    "payee_agent_id": "agt_payee",
    "amount_cents": 1500,
    "released_amount_cents": 1500,
    "refunded_amount_cents": 0,
    "currency": "USD",
    "status": "released",
    "policy_id": "pol_default",
    "policy_version": 1,
    "policy_hash": "ab" * 32,
    "locked_at": "2026-09-01T10:00:00Z",
    "resolved_at": "2026-09-02T10:00:00Z",
    "dispute_status": "none",
    "updated_at": "2026-09-02T10:00:00Z",
}
INSTRUCTION = {
    "tenant_id": "tnt_a",
    "payout_key": "tnt_a:party:agt_payee:period:2026-09:statement:abc",
    "party_id": "agt_payee",
    "party_role": "payee",
    "period": "2026-09",
    "amount_cents": 1500,
    "currency": "USD",
    "provider_id": "wire_fedline",
    "destination_ref": None,
    "statement_hash": "abc",
    "created_at": "2026-10-01T02:00:00Z",
}
OPERATION = {
    "provider_id": "wire_fedline",
    "operation_id": "mop_1",
    "tenant_id": "tnt_a",
    "direction": "payout",
    "payout_key": INSTRUCTION["payout_key"],
    "amount_cents": 1500,
    "currency": "USD",
    "state": "confirmed",
    "reason_code": None,
    "provider_ref": "fed_1",
    "initiated_at": "2026-10-01T03:00:00Z",
    "submitted_at": "2026-10-01T04:00:00Z",
    "confirmed_at": "2026-10-02T04:00:00Z",
    "failed_at": None,
    "cancelled_at": None,
    "reversed_at": None,
    "updated_at": "2026-10-02T04:00:00Z",
}
STRIPE_EVENT = {
    "id": "evt_1",
    "object": "event",
    "api_version": "2024-06-20",
    "created": 1790000000,
    "livemode": False,
    "type": "customer.subscription.created",
    "pending_webhooks": 0,
    "data": {
        "object": {
            "id": "sub_1",
            "object": "subscription",
            "customer": "cus_1",
            "metadata": {"tenant_id": "tnt_a", "plan": "growth"},
        }
    },
}


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_csv(path: Path, rows: list[dict], dataset: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = DATASETS[dataset].column_names
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_parquet(path)
    return path


def write_good_zone(root: Path) -> list[Path]:
    """A small landing zone in every format, with non-ASCII text in each text file: the files the
    property-based loader test damages. Returns the files written."""
    settlements = [
        {**SETTLEMENT, "settlement_id": f"setl_{n}", "policy_id": f"pol_été_{n}"} for n in range(1, 5)
    ]
    instructions = [
        {**INSTRUCTION, "payout_key": f"key_{n}", "destination_ref": f"Zoë-{n}"} for n in range(1, 5)
    ]
    operations = [{**OPERATION, "operation_id": f"mop_{n}", "provider_ref": f"réf_{n}"} for n in range(1, 5)]
    events = [{**STRIPE_EVENT, "id": f"evt_{n}", "account": "acct_ñ"} for n in range(1, 4)]
    return [
        write_jsonl(root / "settlements/s-2026-09.jsonl", settlements),
        write_csv(root / "payout_instructions/p-2026-09.csv", instructions, "payout_instructions"),
        write_csv(root / "money_rail_operations/o-wire-2026-09.csv", operations[:2], "money_rail_operations"),
        write_parquet(root / "money_rail_operations/o-usdc-2026-09.parquet", operations[2:]),
        write_jsonl(root / "stripe/events/e-2026-09.jsonl", events),
    ]


def raw_tables(warehouse: Path) -> dict[str, list[tuple]]:
    """Every raw table's rows (the ledger too), sorted, without the load instant."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            name: con.execute(f"select * exclude (_loaded_at) from raw.{name} order by all").fetchall()
            for name in DATASETS
        }
        for name in ("quarantine", "load_files"):
            tables[name] = con.execute(
                f"select * exclude (loaded_at) from raw.{name} order by all"
            ).fetchall()
    return tables


def ledger(warehouse: Path) -> dict[str, tuple]:
    """source_file -> (status, reason, rows_in, rows_loaded, rows_quarantined) of raw.load_files."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select source_file, status, reason, rows_in, rows_loaded, rows_quarantined from raw.load_files"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}
