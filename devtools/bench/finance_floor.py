"""The finance floor (`finance_floor.sql`): every GL and escrow finding of a Parquet landing zone by one
hand-written DuckDB query, independent of the dbt models, as the money-rail floor is for reconciliation.

    python -m devtools.bench.finance_floor LANDING_DIR OUT.parquet

Prints one JSON line: the query's seconds and rows. Tests compare its rows with injected.csv and with
marts.fct_finance_reconciliation_mismatches.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from string import Template

import duckdb

from ingestion.contracts import DATASET_FOLDERS
from ingestion.validation import literal
from settld.vocabulary import ESCROW_NET_CLOSE_SOURCE, FINANCE_RECONCILE_SOURCE, VOCABULARY

FLOOR_SQL = Path(__file__).with_name("finance_floor.sql")
FINANCE_TYPES_SQL = ", ".join(
    literal(name)
    for source in (FINANCE_RECONCILE_SOURCE, ESCROW_NET_CLOSE_SOURCE)
    for name in VOCABULARY.mismatch_types_of(source)
)
INPUTS = {
    "postings": "ledger_postings", "batches": "gl_batches", "lines": "gl_batch_lines",
    "statements": "party_statements", "statement_lines": "party_statement_lines",
    "held": "held_exposure_rollforwards", "closes": "month_closes",
}  # fmt: skip


def finance_floor_sql(landing: Path) -> str:
    return Template(FLOOR_SQL.read_text()).substitute(
        {key: literal(str(landing / DATASET_FOLDERS[name] / "*.parquet")) for key, name in INPUTS.items()}
    )


def run_finance_floor(landing: Path, out: Path) -> dict:
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        started = time.perf_counter()
        (rows,) = con.execute(
            f"copy ({finance_floor_sql(landing)}) to {literal(str(out))} (format parquet)"
        ).fetchone()
        return {"seconds": round(time.perf_counter() - started, 3), "rows": rows}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(run_finance_floor(Path(argv[0]), Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
