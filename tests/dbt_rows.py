"""Hand-written raw rows for the dbt tests, in the load contracts of `ingestion.contracts`, and a DuckDB
warehouse built from them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.contracts import DATASETS, LOAD_FILES_DDL, QUARANTINE_DDL, raw_table_columns, raw_table_ddl
from ingestion.duckdb_sink import ensure_raw_schema

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
LOADED_AT = datetime(2024, 2, 3, 12, 0, 0)

pytestmark = pytest.mark.slow


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _settlement(settlement_id: str, tenant_id: str, status: str, amount: int, **overrides: Any) -> dict:
    row = {
        "tenant_id": tenant_id,
        "settlement_id": settlement_id,
        "run_id": f"run_{settlement_id}",
        "payer_agent_id": "agent_buyer",
        "payee_agent_id": "agent_seller",
        "amount_cents": amount,
        "released_amount_cents": None,
        "refunded_amount_cents": None,
        "currency": "USD",
        "status": status,
        "policy_id": "pol_default",
        "policy_version": 1,
        "policy_hash": "sha256:abc",
        "locked_at": ts("2024-01-10T09:00:00"),
        "resolved_at": None,
        "dispute_status": "none",
        "updated_at": ts("2024-01-10T09:00:00"),
    }
    return row | overrides


def _instruction(tenant_id: str, payout_key: str, amount: int, created_at: str) -> dict:
    return {
        "tenant_id": tenant_id,
        "payout_key": payout_key,
        "party_id": f"party_{payout_key}",
        "party_role": "payee",
        "period": "2024-01",
        "amount_cents": amount,
        "currency": "USD",
        "provider_id": "wire",
        "destination_ref": None,
        "statement_hash": "sha256:stmt",
        "created_at": ts(created_at),
    }


def _operation(operation_id: str, tenant_id: str, payout_key: str, state: str, **timestamps: str) -> dict:
    row = {
        "provider_id": "wire",
        "operation_id": operation_id,
        "tenant_id": tenant_id,
        "direction": "payout",
        "payout_key": payout_key,
        "amount_cents": 1000,
        "currency": "USD",
        "state": state,
        "reason_code": None,
        "provider_ref": f"ref_{operation_id}",
        "initiated_at": None,
        "submitted_at": None,
        "confirmed_at": None,
        "failed_at": None,
        "cancelled_at": None,
        "reversed_at": None,
    }
    return row | {name: ts(value) for name, value in timestamps.items()}


def _stripe_event(event_id: str, tenant_id: str | None) -> dict:
    return {
        "event_id": event_id,
        "event_type": "invoice.paid",
        "created_at": ts("2024-01-31T23:59:59"),
        "api_version": "2024-06-20",
        "livemode": False,
        "account": None,
        "object_type": "invoice",
        "object_id": f"in_{event_id}",
        "customer_id": "cus_1",
        "tenant_id": tenant_id,
        "payload": f'{{"id": "{event_id}"}}',
    }


def raw_rows(*, broken_settlement: bool = False) -> dict[str, list[tuple[str, int, dict]]]:
    """Rows per dataset as (source file, source row, values)."""
    s2_refunded = 400 if broken_settlement else 500
    return {
        "settlements": [
            # s1 exported twice: locked, then released. The later updated_at wins although it
            # sits in the file that sorts first.
            ("b.jsonl", 1, _settlement("s1", "t1", "locked", 1000)),
            (
                "a.jsonl",
                1,
                _settlement(
                    "s1",
                    "t1",
                    "released",
                    1000,
                    released_amount_cents=1000,
                    resolved_at=ts("2024-02-01T00:30:00"),
                    updated_at=ts("2024-02-01T00:30:00"),
                ),
            ),
            (
                "a.jsonl",
                2,
                _settlement(
                    "s2",
                    "t1",
                    "refunded",
                    500,
                    refunded_amount_cents=s2_refunded,
                    dispute_status="closed",
                    resolved_at=ts("2024-01-20T10:00:00"),
                    updated_at=ts("2024-01-20T10:00:00"),
                ),
            ),
            ("a.jsonl", 3, _settlement("s3", "t2", "locked", 700)),
        ],
        "payout_instructions": [
            # Same key, different amounts: both survive (duplicate_expected is found later).
            ("a.jsonl", 1, _instruction("t1", "k1", 900, "2024-02-01T10:00:00")),
            ("a.jsonl", 3, _instruction("t1", "k1", 1000, "2024-02-01T09:00:00")),
            # Identical re-delivery of k2 in a second file: collapses to a.jsonl row 2.
            ("b.jsonl", 5, _instruction("t1", "k2", 300, "2024-02-01T09:00:00")),
            ("a.jsonl", 2, _instruction("t1", "k2", 300, "2024-02-01T09:00:00")),
            ("a.jsonl", 4, _instruction("t2", "k3", 700, "2024-02-01T09:00:00")),
        ],
        "money_rail_operations": [
            # o1 seen initiated, then confirmed: the confirmed state wins (from the earlier file).
            (
                "b.jsonl",
                1,
                _operation(
                    "o1",
                    "t1",
                    "k1",
                    "initiated",
                    initiated_at="2024-02-01T11:00:00",
                    updated_at="2024-02-01T11:00:00",
                ),
            ),
            (
                "a.jsonl",
                1,
                _operation(
                    "o1",
                    "t1",
                    "k1",
                    "confirmed",
                    initiated_at="2024-02-01T11:00:00",
                    submitted_at="2024-02-01T12:00:00",
                    confirmed_at="2024-02-02T08:00:00",
                    updated_at="2024-02-02T08:00:00",
                ),
            ),
            (
                "a.jsonl",
                2,
                _operation(
                    "o2",
                    "t2",
                    "k3",
                    "submitted",
                    initiated_at="2024-02-01T11:00:00",
                    submitted_at="2024-02-01T12:00:00",
                    updated_at="2024-02-01T12:00:00",
                ),
            ),
        ],
        "stripe_events": [
            # The same event pulled and pushed; t3 is a tenant seen only in billing.
            ("pull.jsonl", 1, _stripe_event("evt_1", "t3")),
            ("webhook.jsonl", 1, _stripe_event("evt_1", "t3")),
            ("pull.jsonl", 2, _stripe_event("evt_2", None)),
        ],
    }


def build_warehouse(path: Path, rows: dict[str, list[tuple[str, int, dict]]]) -> None:
    con = duckdb.connect(str(path))
    try:
        for schema in ("marts", "intermediate", "staging", "raw"):
            con.execute(f"drop schema if exists {schema} cascade")
        con.execute("create schema raw")
        for dataset in DATASETS.values():
            con.execute(raw_table_ddl(dataset))
        con.execute(QUARANTINE_DDL)
        con.execute(LOAD_FILES_DDL)
        for name, dataset_rows in rows.items():
            columns = [column for column, _ in raw_table_columns(DATASETS[name])]
            placeholders = ", ".join("?" for _ in columns)
            for loaded_rank, (source_file, source_row, values) in enumerate(dataset_rows):
                metadata = {
                    "_source_file": f"{name}/{source_file}",
                    "_source_row": source_row,
                    "_file_sha256": "0" * 64,
                    "_loaded_at": LOADED_AT.replace(second=loaded_rank),
                }
                record = values | metadata
                con.execute(
                    f"insert into raw.{name} ({', '.join(columns)}) values ({placeholders})",
                    [record.get(column) for column in columns],
                )
        con.execute(
            "insert into raw.quarantine values "
            "('settlements', 'settlements/a.jsonl', ?, 9, 'invalid_enum', 'status', '{}', ?)",
            ["0" * 64, LOADED_AT],
        )
        con.execute(
            "insert into raw.load_files values "
            "('settlements', 'settlements/a.jsonl', ?, 'jsonl', 4, 3, 1, ?)",
            ["0" * 64, LOADED_AT],
        )
        ensure_raw_schema(con)  # the ledger's later columns, as on an upgraded warehouse: rows read 'loaded'
    finally:
        con.close()
