"""The damaged-files drill of issue 27, on a generated landing zone: one money-rail file damaged at a time.

For each damage: the loader raises nothing, the file is in the ledger with its status and reason (named
in the load summary), every other file loads, rows balance, the verdict `settld run` takes from the ledger
(ingestion.health) stops the run exactly when a file was rejected, naming it, and warns of files without
data rows and duplicates; once the file is repaired a reload into the same warehouse equals a clean load.
(tests/test_run_fails_loudly.py runs the CLI itself for a few of them.)
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.sample_data import generate_landing_zone
from ingestion.health import landing_health, landing_problems
from ingestion.loader import load_landing_zone
from settld.settings import warehouse_target
from settld.warehouse import connect
from tests.landing_rows import ledger, raw_tables

OPS = "money_rail_operations"
PARQUET = f"{OPS}/operations-usdc_circle-2026-09.parquet"
JSONL = f"{OPS}/operations-stripe_connect-2026-09.jsonl"
CSV = f"{OPS}/operations-wire_fedline-2026-09.csv"
COPY = f"{OPS}/wire_fedline-copy.csv"  # sorts after the original: the original loads first


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A generated landing zone (one tenant, one period, every format) and its clean load."""
    root = tmp_path_factory.mktemp("demo")
    generate_landing_zone(root / "landing", tenants=1, periods=["2026-09"])
    load_landing_zone(root / "clean.duckdb", root / "landing")
    return {"landing": root / "landing", "tables": raw_tables(root / "clean.duckdb")}


def _rewrite_csv(path: Path, change: Callable[[list[list[str]]], None], encoding: str = "utf-8") -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    change(rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def _latin1(zone: Path) -> None:
    def accent(rows: list[list[str]]) -> None:
        rows[3][rows[0].index("provider_ref")] = "réf-é"

    _rewrite_csv(zone / CSV, accent, encoding="latin-1")


def _drop_currency(rows: list[list[str]]) -> None:
    at = rows[0].index("currency")
    for row in rows:
        if len(row) > at:
            del row[at]


def _add_column(rows: list[list[str]]) -> None:
    for number, row in enumerate(rows):
        row.append("note" if number == 0 else f"n{number}")


def _crlf(zone: Path) -> None:
    for name in (CSV, JSONL):
        path = zone / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# name -> (damage, the file it leaves, its status, its reason, the warning it carries)
DAMAGES: dict[str, tuple[Callable[[Path], None], str, str, str | None, str | None]] = {
    "parquet truncated to half": (
        lambda z: _truncate(z / PARQUET), PARQUET, "rejected", "unreadable_parquet", None),
    "0-byte parquet": (lambda z: (z / PARQUET).write_bytes(b""), PARQUET, "rejected", "unreadable_parquet", None),
    "parquet renamed .csv": (
        lambda z: (z / PARQUET).rename(z / CSV.replace("wire_fedline", "usdc_x")),
        CSV.replace("wire_fedline", "usdc_x"), "rejected", "wrong_format", None),
    "csv renamed .parquet": (
        lambda z: (z / CSV).rename(z / f"{OPS}/wire.parquet"), f"{OPS}/wire.parquet", "rejected",
        "wrong_format", None),
    "jsonl renamed .csv": (
        lambda z: (z / JSONL).rename(z / f"{OPS}/stripe.csv"), f"{OPS}/stripe.csv", "rejected",
        "wrong_format", None),
    "csv renamed .jsonl": (
        lambda z: (z / CSV).rename(z / f"{OPS}/wire.jsonl"), f"{OPS}/wire.jsonl", "rejected",
        "wrong_format", None),
    "csv in latin-1": (_latin1, CSV, "rejected", "invalid_encoding", None),
    "csv with a byte-order mark": (
        lambda z: (z / CSV).write_bytes(b"\xef\xbb\xbf" + (z / CSV).read_bytes()), CSV, "loaded", None, None),
    "csv without its currency column": (
        lambda z: _rewrite_csv(z / CSV, _drop_currency), CSV, "rejected", "missing_required_column", None),
    "csv with only its header": (
        lambda z: (z / CSV).write_text((z / CSV).read_text().splitlines()[0] + "\n"), CSV, "loaded", None,
        "no_data_rows"),
    "the same file under a second name": (
        lambda z: shutil.copy(z / CSV, z / COPY), COPY, "duplicate", "duplicate_file", None),
    "a jsonl line {not json": (
        lambda z: (z / JSONL).write_text((z / JSONL).read_text() + "{not json\n"), JSONL, "loaded", None, None),
    "crlf line endings": (_crlf, CSV, "loaded", None, None),
    "an extra column": (lambda z: _rewrite_csv(z / CSV, _add_column), CSV, "loaded", None, None),
    "an empty jsonl": (lambda z: (z / JSONL).write_bytes(b""), JSONL, "loaded", None, "no_data_rows"),
    "an empty csv": (lambda z: (z / CSV).write_bytes(b""), CSV, "loaded", None, "no_data_rows"),
}  # fmt: skip
# Damages after which the file's records are exactly the clean file's.
SAME_ROWS = {"csv with a byte-order mark", "crlf line endings", "an extra column"}


def _without_sha256(rows: list[tuple]) -> list[tuple]:
    return sorted(row[:-1] for row in rows)


@pytest.mark.parametrize("name", list(DAMAGES))
def test_a_damaged_file_is_in_the_ledger_and_the_rest_loads(demo: dict, tmp_path: Path, name: str) -> None:
    damage, damaged, status, reason, warning = DAMAGES[name]
    zone, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    shutil.copytree(demo["landing"], zone)
    damage(zone)

    summary = load_landing_zone(warehouse, zone)  # raises nothing

    files = ledger(warehouse)
    present = {p.relative_to(zone).as_posix() for p in zone.rglob("*") if p.is_file()}
    assert set(files) == present - {"manifest.json", "injected.csv"}  # every file, with a status
    assert files[damaged][:2] == (status, reason)
    result = next(f for f in summary[OPS].files if f.source_file == damaged)
    assert (result.status, result.reason, result.warning) == (status, reason, warning)
    assert result.describe().startswith(f"{damaged}: ")  # the summary names the file
    clean = {row[1]: row for row in demo["tables"]["load_files"]}
    for path, (file_status, _, rows_in, loaded, quarantined) in files.items():
        assert rows_in == loaded + quarantined, path
        if path != damaged and path in clean:  # every other file loads as in a clean load
            assert file_status == "loaded" and clean[path][4:7] == (rows_in, loaded, quarantined), path
    tables = raw_tables(warehouse)
    if status != "loaded":  # nothing of the file in raw
        assert all(row[-3] != damaged for row in tables[OPS])
        assert all(row[1] != damaged for row in tables["quarantine"])
    if warning:
        assert files[damaged][2] == 0 and any(line.startswith(damaged) for line in summary[OPS].warnings)
    with connect(warehouse_target(str(warehouse)), read_only=True) as db:
        health = landing_health(db)
    if status == "rejected":  # the run stops (exit 1) on one line naming the file, its status and reason
        assert landing_problems(health) == [f"{OPS}: {damaged}: rejected ({reason}): {result.detail}"]
    else:  # the run goes on (exit 0); an empty file or a duplicate is a warning of its summary
        assert landing_problems(health) == []
        assert any(line.startswith(f"{OPS}: {damaged}: ") for line in health[OPS].warnings) == (
            warning is not None or status == "duplicate"
        )
    if name in SAME_ROWS:  # the same records as the clean file's (without sha256)
        assert _without_sha256(tables[OPS]) == _without_sha256(demo["tables"][OPS])

    shutil.rmtree(zone)
    shutil.copytree(demo["landing"], zone)  # repaired: the files as delivered clean
    load_landing_zone(warehouse, zone)
    assert raw_tables(warehouse) == demo["tables"]


def test_decoding_errors_name_the_file_the_byte_offset_and_the_line(demo: dict, tmp_path: Path) -> None:
    zone, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    shutil.copytree(demo["landing"], zone)
    _latin1(zone)
    offset = (zone / CSV).read_bytes().index(b"r\xe9f") + 1

    result = next(f for f in load_landing_zone(warehouse, zone)[OPS].files if f.source_file == CSV)

    assert result.describe() == (
        f"{CSV}: rejected (invalid_encoding): byte 0xe9 at byte offset {offset} (line 4) is not UTF-8"
    )


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_keeps_the_same_ledger_and_rows_as_duckdb(
    demo: dict, tmp_path: Path, postgres_server_url: str
) -> None:
    import uuid

    from devtools.postgres_server import create_database
    from settld.settings import warehouse_target
    from settld.warehouse import connect

    zone, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    database = create_database(postgres_server_url, f"settld_damage_{uuid.uuid4().hex[:10]}")
    postgres_url = database.replace("postgresql+psycopg://", "postgresql://")
    shutil.copytree(demo["landing"], zone)
    for name in ("parquet truncated to half", "csv in latin-1", "a jsonl line {not json"):
        DAMAGES[name][0](zone)
    shutil.copy(zone / "settlements/settlements-2026-09.jsonl", zone / "settlements/z-copy.jsonl")

    def ledgers() -> tuple[list, list]:
        load_landing_zone(warehouse, zone)
        load_landing_zone(postgres_url, zone)
        sql = (
            "select dataset, source_file, file_sha256, status, reason, reason_detail, rows_in, rows_loaded, "
            "rows_quarantined from raw.load_files order by dataset, source_file"
        )
        seen = []
        for url in (str(warehouse), postgres_url):
            with connect(warehouse_target(url)) as db:
                counts = [db.scalar(f"select count(*) from raw.{t}") for t in (OPS, "quarantine")]
                seen.append((db.query(sql), counts))
        return seen[0], seen[1]

    on_duckdb, on_postgres = ledgers()
    assert on_postgres == on_duckdb
    statuses = {row["source_file"]: (row["status"], row["reason"]) for row in on_postgres[0]}
    assert statuses[PARQUET] == ("rejected", "unreadable_parquet")
    assert statuses[CSV] == ("rejected", "invalid_encoding")
    assert statuses["settlements/z-copy.jsonl"] == ("duplicate", "duplicate_file")

    shutil.rmtree(zone)
    shutil.copytree(demo["landing"], zone)
    on_duckdb, on_postgres = ledgers()
    assert on_postgres == on_duckdb
    assert {row["status"] for row in on_postgres[0]} == {"loaded"}
