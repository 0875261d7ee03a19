"""The kernel's books load like every landing dataset: from JSON Lines, CSV and Parquet, typed, with a bad
row quarantined with its reason (ingestion/finance_contracts.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.contracts import DATASET_FOLDERS
from ingestion.loader import load_landing_zone
from tests.landing_rows import write_csv, write_jsonl, write_parquet

POSTING = {"tenant_id": "tnt_a", "entry_id": "je_1", "posting_index": 0, "posted_at": "2026-09-02T10:00:00Z",
           "account_id": "agt_b:escrow_locked", "party_id": "agt_b", "amount_cents": -1500, "currency": "USD",
           "memo": "escrow:release:setl_1"}  # fmt: skip
LINE = {"tenant_id": "tnt_a", "batch_id": "glb_1", "period": "2026-09", "line_no": 1, "party_id": "agt_b",
        "account_id": "agt_b:escrow_locked", "entry_id": "je_1", "amount_cents": -1500, "currency": "USD"}  # fmt: skip
CLOSE = {"tenant_id": "tnt_a", "period": "2026-09", "status": "closed", "closed_at": "2026-10-02T00:00:00Z",
         "chain_hash": "abc", "updated_at": "2026-10-02T00:00:00Z"}  # fmt: skip


def test_the_books_load_from_every_format_and_quarantine_with_a_reason(
    landing: Path, warehouse_path: Path
) -> None:
    write_jsonl(landing / DATASET_FOLDERS["ledger_postings"] / "p.jsonl",
                [POSTING, {**POSTING, "posting_index": 1, "amount_cents": 1500, "account_id": "agt_s:available"},
                 {**POSTING, "posting_index": 2, "amount_cents": "12.5"}])  # fmt: skip
    write_parquet(landing / DATASET_FOLDERS["gl_batch_lines"] / "l.parquet", [LINE])
    write_csv(landing / DATASET_FOLDERS["month_closes"] / "c.csv",
              [CLOSE, {**CLOSE, "period": "2026-10", "status": "reopened"}], "month_closes")  # fmt: skip

    summary = load_landing_zone(warehouse_path, landing)

    assert (summary["ledger_postings"].rows_loaded, summary["ledger_postings"].rows_quarantined) == (2, 1)
    assert summary["gl_batch_lines"].rows_loaded == 1
    assert (summary["month_closes"].rows_loaded, summary["month_closes"].rows_quarantined) == (1, 1)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        assert con.execute("select sum(amount_cents), count(*) from raw.ledger_postings").fetchone() == (0, 2)
        reasons = con.execute("select dataset, reason_code from raw.quarantine order by dataset").fetchall()
    assert reasons == [("ledger_postings", "invalid_integer"), ("month_closes", "invalid_enum")]
