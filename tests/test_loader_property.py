"""Property: no landing file can crash the loader, and repairing the files repairs the raw layer.

Hypothesis damages good landing files (tests/landing_rows.py: every format, non-ASCII text) in the ways
files arrive damaged: truncated, bytes flipped, re-encoded in latin-1, a column or a line added or
dropped, renamed to another format's extension, copied under a second name. For every damaged zone:
the loader raises nothing; every file is in the ledger with a status; every loaded file's rows balance
and are in raw exactly as the ledger counts them (a file not loaded has no row there); and after the
files are repaired a reload into the same warehouse gives the raw tables of a clean load.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ingestion.contracts import DATASETS, FILE_STATUSES
from ingestion.loader import load_landing_zone
from ingestion.readers import FORMAT_BY_SUFFIX
from tests.landing_rows import raw_tables, write_good_zone

SUFFIXES = (".csv", ".jsonl", ".parquet")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("clean")
    files = write_good_zone(root / "landing")
    load_landing_zone(root / "clean.duckdb", root / "landing")
    names = [f.relative_to(root / "landing").as_posix() for f in files]
    return {"landing": root / "landing", "files": names, "tables": raw_tables(root / "clean.duckdb")}


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _reshape(path: Path, draw: Callable, mode: str) -> None:
    """Add or drop a column or a line, in the file's own format."""
    suffix, data = path.suffix, path.read_bytes()
    if suffix == ".parquet":
        frame = pl.read_parquet(path)
        index = draw(st.integers(0, max(len(frame.columns), frame.height) - 1))
        frame = {
            "add_column": lambda f: f.with_columns(pl.lit("x").alias("extra")),
            "drop_column": lambda f: f.drop(f.columns[index % len(f.columns)]),
            "add_line": lambda f: pl.concat([f, f.head(1)]),
            "drop_line": lambda f: f.filter(pl.int_range(pl.len()) != index % max(f.height, 1)),
        }[mode](frame)
        frame.write_parquet(path)
        return
    if suffix == ".csv" and mode.endswith("column"):
        rows = _csv_rows(data)
        index = draw(st.integers(0, len(rows[0]) - 1))
        for number, row in enumerate(rows):
            if mode == "add_column":
                row.insert(index, "extra" if number == 0 else f"v{number}")
            elif len(row) > index:
                del row[index]
        path.write_bytes(_csv_bytes(rows))
        return
    lines = data.splitlines(keepends=True)
    if suffix == ".jsonl" and mode.endswith("column"):
        records = [json.loads(line) for line in lines]
        key = draw(st.sampled_from(sorted(records[0])))
        for record in records:
            record.pop(key) if mode == "drop_column" else record.update(extra=[1, 2])
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        return
    index = draw(st.integers(0, len(lines) - 1))
    if mode == "add_line":
        lines.insert(index, draw(st.sampled_from([lines[index], b"garbage,,\n", b"\n", b"{}\n"])))
    else:
        del lines[index]
    path.write_bytes(b"".join(lines))


def _damage(zone: Path, name: str, mutation: str, draw: Callable) -> None:
    path = zone / name
    data = path.read_bytes()
    if mutation == "truncate":
        path.write_bytes(data[: draw(st.integers(0, len(data) - 1))])
    elif mutation == "flip":
        damaged = bytearray(data)
        for _ in range(draw(st.integers(1, 3))):
            damaged[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
        path.write_bytes(bytes(damaged))
    elif mutation == "latin1":
        if path.suffix != ".parquet":
            path.write_bytes(data.decode("utf-8").encode("latin-1"))
    elif mutation == "rename":
        suffix = draw(st.sampled_from([s for s in SUFFIXES if s != path.suffix]))
        path.rename(path.with_name(f"{path.stem}-renamed{suffix}"))
    elif mutation == "duplicate":
        shutil.copy(path, path.with_name(f"z-copy-of-{path.name}"))  # sorts after the original
    else:
        _reshape(path, draw, mutation)


MUTATIONS = ("truncate", "flip", "latin1", "add_column", "drop_column", "add_line", "drop_line", "rename", "duplicate")  # fmt: skip


def _check_invariants(zone: Path, warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = {
            row[0]: row[1:]
            for row in con.execute(
                "select source_file, dataset, status, rows_in, rows_loaded, rows_quarantined from raw.load_files"
            ).fetchall()
        }
        in_raw = {}
        for name in DATASETS:
            in_raw |= dict(
                con.execute(f"select _source_file, count(*) from raw.{name} group by 1").fetchall()
            )
        quarantined = dict(
            con.execute("select source_file, count(*) from raw.quarantine group by 1").fetchall()
        )
    for dataset in DATASETS.values():  # every file of a supported format is in the ledger
        folder = zone / dataset.folder
        for path in folder.rglob("*") if folder.is_dir() else []:
            if FORMAT_BY_SUFFIX.get(path.suffix) in dataset.formats:
                assert path.relative_to(zone).as_posix() in files, path
    for source_file, (_, status, rows_in, loaded, quarantine) in files.items():
        event(f"file {status}")  # shown by --hypothesis-show-statistics
        assert status in FILE_STATUSES
        assert rows_in == loaded + quarantine, source_file  # nothing dropped
        assert (in_raw.get(source_file, 0), quarantined.get(source_file, 0)) == (loaded, quarantine)
        if status != "loaded":
            assert rows_in == loaded == quarantine == 0, source_file


@settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_file_crashes_the_loader_and_repairing_the_files_repairs_raw(
    clean: dict, data: st.DataObject
) -> None:
    targets = data.draw(st.lists(st.sampled_from(clean["files"]), min_size=1, max_size=3, unique=True))
    with tempfile.TemporaryDirectory(prefix="settld-property-") as scratch:
        zone, warehouse = Path(scratch) / "landing", Path(scratch) / "warehouse.duckdb"
        shutil.copytree(clean["landing"], zone)
        for name in targets:
            mutation = data.draw(st.sampled_from(MUTATIONS), label=name)
            _damage(zone, name, mutation, data.draw)

        load_landing_zone(warehouse, zone)  # raises nothing, whatever the files hold
        _check_invariants(zone, warehouse)

        shutil.rmtree(zone)
        shutil.copytree(clean["landing"], zone)  # repaired: the files as delivered clean
        load_landing_zone(warehouse, zone)
        _check_invariants(zone, warehouse)
        assert raw_tables(warehouse) == clean["tables"]
