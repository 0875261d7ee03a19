"""The copy floor: copy both reconciliation inputs, unchanged, from Parquet into a new DuckDB file.

    python -m devtools.bench.copy_inputs LANDING_DIR OUT.duckdb

Prints one JSON line: the seconds and the rows copied per dataset. No check, no de-duplication, no
matching: this is what any pipeline that keeps its inputs in the warehouse pays at least once, before
computing anything. It runs under the load's memory limit (`SETTLD_DUCKDB_MEMORY_LIMIT`, as
`settld.warehouse.connect_duckdb`), in its own process, so `settld bench` measures it as it measures
`settld run` and the floor, and can set the floor's time beside the cost of persisting the inputs.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ingestion.validation import literal
from settld.warehouse import connect_duckdb

DATASETS = ("payout_instructions", "money_rail_operations")


def copy_inputs(landing: Path, out: Path) -> dict:
    out.unlink(missing_ok=True)
    rows = {}
    started = time.perf_counter()
    with connect_duckdb(out) as con:
        for dataset in DATASETS:
            files = literal(str(landing / dataset / "*.parquet"))
            con.execute(f"create table {dataset} as select * from read_parquet({files})")
            rows[dataset] = con.execute(f"select count(*) from {dataset}").fetchone()[0]
        con.execute("checkpoint")
    return {"seconds": round(time.perf_counter() - started, 3), "rows": rows}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(copy_inputs(Path(argv[0]), Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
