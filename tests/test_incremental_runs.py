"""Incremental daily runs give the tables a full rebuild gives (issue 22).

The demo's landing zone is delivered in five daily slices into one home, with a `settld run` after each
and the as-of moving on: day 1 August and September; days 2 to 4 October's instructions, operations, ledger
postings and party statement lines a third at a time, day 4 also a September operations file that arrived
late; day 5 corrected files that replace three earlier ones under the same path (an instruction gone and
one with a new amount; an operation gone, one moved to another payout key, one in a new state; a journal
entry's postings gone and a posting with a new amount), and a new file re-exporting an operation of an
earlier file on another payout key. Then `settld run --full-refresh` on the same
files and as-of must leave every staging, intermediate and mart table as the incremental runs left it,
row for row (load times aside), and the incremental runs must really have been incremental.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.demo_home import settld_in, succeeded
from tests.warehouse_snapshots import warehouse_contents

pytestmark = [pytest.mark.slow, pytest.mark.drill]

OCTOBER_FILES = (
    "payout_instructions/payout_instructions-2026-10.csv",
    "money_rail_operations/operations-stripe_connect-2026-10.jsonl",
    "money_rail_operations/operations-usdc_circle-2026-10.parquet",
    "money_rail_operations/operations-wire_fedline-2026-10.csv",
    "kernel_books/ledger_postings/ledger_postings-2026-10.jsonl",
    "kernel_books/party_statement_lines/party_statement_lines-2026-10.parquet",
)
LATE_FILE = "money_rail_operations/operations-wire_fedline-2026-09.csv"
CORRECTED_INSTRUCTIONS = "payout_instructions/payout_instructions-2026-09.csv"
CORRECTED_OPERATIONS = "money_rail_operations/operations-stripe_connect-2026-08.jsonl"
CORRECTED_POSTINGS = "kernel_books/ledger_postings/ledger_postings-2026-09.jsonl"
# Each day's as-of: September's stale deadline (October 8) and October's (November 8) pass on the way.
AS_OF = ("2026-10-06T00:00:00Z", "2026-10-12T00:00:00Z", "2026-10-20T00:00:00Z",
         "2026-11-03T00:00:00Z", "2026-11-10T00:00:00Z")  # fmt: skip
PARTS = 3


def _thirds(path: Path, out_dir: Path) -> list[Path]:
    """The file cut into three delivery files of its format, rows in order (`<stem>-part<n><suffix>`)."""
    parts = [out_dir / f"{path.stem}-part{n}{path.suffix}" for n in range(1, PARTS + 1)]
    if path.suffix == ".parquet":
        with duckdb.connect() as con:
            (rows,) = con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone()
            size = -(-rows // PARTS)
            for n, part in enumerate(parts):
                con.execute(f"copy (select * from read_parquet('{path}') limit {size} offset {n * size}) "
                            f"to '{part}' (format parquet)")  # fmt: skip
        return parts
    lines = path.read_text().splitlines(keepends=True)
    header, body = (lines[:1], lines[1:]) if path.suffix == ".csv" else ([], lines)
    size = -(-len(body) // PARTS)
    for n, part in enumerate(parts):
        part.write_text("".join(header + body[n * size : (n + 1) * size]))
    return parts


def _correct_instructions(path: Path) -> None:
    """Drop the first instruction and add 250 cents to the second (CSV rows as text, the rest untouched)."""
    header, first, second, *rest = path.read_text().splitlines(keepends=True)
    columns = next(csv.reader([header]))
    row = next(csv.reader([second]))
    row[columns.index("amount_cents")] = str(int(row[columns.index("amount_cents")]) + 250)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(row)
    path.write_text("".join([header, text.getvalue(), *rest]))


def _correct_operations(path: Path) -> None:
    """Among the JSON lines of payout operations with a payout key: drop the first, move the second to
    the third's payout key, and give the fourth a failed state (other lines untouched)."""
    lines = path.read_text().splitlines(keepends=True)
    chosen = []
    for index, line in enumerate(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("direction") == "payout" and record.get("payout_key"):
            chosen.append(index)
        if len(chosen) == 4:
            break
    dropped, moved, target, failed = chosen
    records = {i: json.loads(lines[i]) for i in chosen}
    records[moved]["payout_key"] = records[target]["payout_key"]
    records[failed] |= {"state": "failed", "failed_at": records[failed]["updated_at"]}
    for index in (moved, failed):
        lines[index] = json.dumps(records[index]) + "\n"
    del lines[dropped]
    path.write_text("".join(lines))


def _correct_postings(path: Path) -> None:
    """Drop every posting of the first journal entry (its key leaves raw) and add 100 cents to the first
    posting of the next (JSON lines, the rest untouched)."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    gone = records[0]["entry_id"]
    kept = [record for record in records if record["entry_id"] != gone]
    kept[0]["amount_cents"] += 100
    path.write_text("".join(json.dumps(record) + "\n" for record in kept))


def _moved_version(original: Path, amendment: Path) -> None:
    """A re-export, in a new file, of `original`'s first payout operation with a later `updated_at` and on
    the payout key of its tenant's last one: the key it leaves is in no file that changed, and no other
    slice touches either key (August's instructions and this provider's August operations stay as
    delivered), so only the rule "every key a changed operation ever carried" recomputes it."""
    with duckdb.connect() as con:
        con.execute(f"create view ops as select * from read_parquet('{original}') "
                    "where direction = 'payout' and payout_key is not null")  # fmt: skip
        con.execute(f"""
            copy (
                select first.* replace (
                    last.payout_key as payout_key, replace(first.updated_at, '2026-', '2027-') as updated_at
                )
                from (select * from ops order by operation_id limit 1) as first
                join lateral (
                    select payout_key from ops
                    where ops.tenant_id = first.tenant_id and ops.payout_key <> first.payout_key
                    order by operation_id desc limit 1
                ) as last on true
            ) to '{amendment}' (format parquet)
        """)
        assert con.execute(f"select count(*) from read_parquet('{amendment}')").fetchone() == (1,)


def _contents(warehouse_url: str) -> dict[str, list]:
    from settld.settings import warehouse_target
    from settld.warehouse import connect

    with connect(warehouse_target(warehouse_url), read_only=True) as db:
        return warehouse_contents(db, ("staging", "intermediate", "marts"))


def _load_times(warehouse_url: str, table: str) -> int:
    from settld.settings import warehouse_target
    from settld.warehouse import connect

    with connect(warehouse_target(warehouse_url), read_only=True) as db:
        (row,) = db.query(f"select count(distinct _loaded_at) as loads from {table}")
    return row["loads"]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """The warehouse URL and the settings of the shell: DuckDB in the home, or a fresh database of the
    session's Postgres server holding the warehouse and the operator API's schema, as in production."""
    if request.param == "duckdb":
        return str(tmp_path / "home" / "warehouse" / "settld.duckdb"), {}
    import uuid

    from devtools.postgres_server import create_database

    server = request.getfixturevalue("postgres_server_url")
    database = create_database(server, f"settld_incremental_{uuid.uuid4().hex[:10]}")
    url = database.replace("postgresql+psycopg://", "postgresql://")
    return url, {"SETTLD_WAREHOUSE_URL": url,
                 "SETTLD_API_DATABASE_URL": database + "?options=-csearch_path%3Doperator_api"}  # fmt: skip


def test_five_daily_slices_then_a_full_refresh_give_the_same_tables(
    tmp_path: Path, engine: tuple[str, dict[str, str]]
) -> None:
    warehouse, settings = engine
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    succeeded(settld_in(home, "generate", env=settings))
    succeeded(settld_in(home, "api", "migrate", env=settings))
    succeeded(settld_in(home, "api", "seed-policies", env=settings))
    landing = home / "data" / "landing"
    held = tmp_path / "held"
    deliveries: list[list[tuple[Path, str]]] = [[] for _ in AS_OF]  # (file, its path in the landing zone)
    for name in (*OCTOBER_FILES, LATE_FILE):
        (held / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(landing / name, held / name)
    for name in OCTOBER_FILES:
        for day, part in enumerate(_thirds(held / name, (held / name).parent), start=1):
            deliveries[day].append((part, str(Path(name).parent / part.name)))
    deliveries[3].append((held / LATE_FILE, LATE_FILE))
    for name, correct in ((CORRECTED_INSTRUCTIONS, _correct_instructions),
                          (CORRECTED_OPERATIONS, _correct_operations),
                          (CORRECTED_POSTINGS, _correct_postings)):  # fmt: skip
        corrected = held / "corrected" / name
        corrected.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(landing / name, corrected)
        correct(corrected)
        deliveries[4].append((corrected, name))
    amendment = held / "amendment" / "operations-usdc_circle-2026-08-amended.parquet"
    amendment.parent.mkdir(parents=True)
    _moved_version(landing / "money_rail_operations/operations-usdc_circle-2026-08.parquet", amendment)
    deliveries[4].append((amendment, f"money_rail_operations/{amendment.name}"))

    for day, as_of in enumerate(AS_OF):
        for source, name in deliveries[day]:
            shutil.copy(source, landing / name)
        output = succeeded(settld_in(home, "run", "--as-of", as_of, env=settings))
        assert "loaded" in output or day == 0, output[-3000:]
    incremental = _contents(warehouse)
    # Rows written on different days carry different loads: the later runs did not rebuild everything.
    for table in ("staging.stg_settlement_kernel__payout_instructions", "staging.stg_money_rails__operations",
                  "intermediate.int_reconciliation__payout_keys_matched",
                  "staging.stg_kernel_books__ledger_postings",
                  "staging.stg_kernel_books__party_statement_lines"):  # fmt: skip
        assert _load_times(warehouse, table) > 1, table

    succeeded(settld_in(home, "run", "--full-refresh", "--as-of", AS_OF[-1], env=settings))
    rebuilt = _contents(warehouse)
    assert _load_times(warehouse, "intermediate.int_reconciliation__payout_keys_matched") == 1
    assert sorted(rebuilt) == sorted(incremental)
    different = [name for name in rebuilt if rebuilt[name] != incremental[name]]
    assert not different, different
    # The corrections and the late file reached the marts: the run saw every slice.
    mismatches = rebuilt["marts.fct_reconciliation_mismatches"]
    assert mismatches, "the demo data injects mismatches"
