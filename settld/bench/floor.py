"""Run the reconciliation floor (`floor.sql`) on a landing zone and write its mismatch set as Parquet.

    python -m settld.bench.floor LANDING_DIR AS_OF OUT.parquet

Prints one JSON line: the query's seconds and the number of mismatch rows. Runs in its own process so
`settld bench` measures its time and memory the same way as `settld run`'s.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from string import Template

import duckdb

FLOOR_SQL = Path(__file__).with_name("floor.sql")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def floor_sql(landing: Path, as_of: str) -> str:
    """The floor query over `landing`, judged as of `as_of` (ISO-8601)."""
    return Template(FLOOR_SQL.read_text()).substitute(
        instructions=_literal(str(landing / "payout_instructions" / "*.parquet")),
        operations=_literal(str(landing / "money_rail_operations" / "*.parquet")),
        as_of=_literal(as_of),
    )


def run_floor(landing: Path, as_of: str, out: Path) -> dict:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("set preserve_insertion_order = false")  # the set has no order
    started = time.perf_counter()
    (rows,) = con.execute(
        f"copy ({floor_sql(landing, as_of)}) to {_literal(str(out))} (format parquet)"
    ).fetchone()
    return {"seconds": round(time.perf_counter() - started, 3), "rows": rows}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    landing, as_of, out = Path(argv[0]), argv[1], Path(argv[2])
    print(json.dumps(run_floor(landing, as_of, out)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
