"""Run the reconciliation floor (`floor.sql`) on a landing zone and write its mismatch set as Parquet.

    python -m devtools.bench.floor LANDING_DIR AS_OF OUT.parquet [MEMORY_LIMIT]

Prints one JSON line: the query's seconds and the number of mismatch rows. Runs in its own process so
`settld bench` measures its time and memory the same way as `settld run`'s. Without MEMORY_LIMIT the
query may use DuckDB's default (80 % of RAM): that is the floor the target is set against. With one
(e.g. `3GB`, what `settld run`'s dbt build is given), it shows how much of the floor's speed is memory.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from string import Template

import duckdb

from ingestion.validation import literal
from settld.vocabulary import MONEY_RAIL_MISMATCH_TYPES

FLOOR_SQL = Path(__file__).with_name("floor.sql")
# The answer key's rows the floor and the mart are compared with: injected.csv without decoys and
# without the billing types (invoice disagreements are not money-rail mismatches).
MONEY_RAIL_TYPES_SQL = ", ".join(literal(name) for name in MONEY_RAIL_MISMATCH_TYPES)


def floor_sql(landing: Path, as_of: str) -> str:
    """The floor query over `landing`, judged as of `as_of` (ISO-8601)."""
    return Template(FLOOR_SQL.read_text()).substitute(
        instructions=literal(str(landing / "payout_instructions" / "*.parquet")),
        operations=literal(str(landing / "money_rail_operations" / "*.parquet")),
        as_of=literal(as_of),
    )


def run_floor(landing: Path, as_of: str, out: Path, memory_limit: str | None = None) -> dict:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("set preserve_insertion_order = false")  # the set has no order
    if memory_limit:
        con.execute("set memory_limit = ?", [memory_limit])
    started = time.perf_counter()
    (rows,) = con.execute(
        f"copy ({floor_sql(landing, as_of)}) to {literal(str(out))} (format parquet)"
    ).fetchone()
    seconds = round(time.perf_counter() - started, 3)
    (limit,) = con.execute("select current_setting('memory_limit')").fetchone()
    return {"seconds": seconds, "rows": rows, "memory_limit": limit}


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    landing, as_of, out = Path(argv[0]), argv[1], Path(argv[2])
    memory_limit = argv[3] if len(argv) == 4 else None
    print(json.dumps(run_floor(landing, as_of, out, memory_limit)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
