"""Whole-warehouse and whole-folder snapshots, for "a rerun changes nothing" assertions."""

from __future__ import annotations

from pathlib import Path


def snapshot_tables(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table and view of every schema, rows sorted, for equality checks across runs."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by all"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(f'select * from "{s}"."{t}" order by all').fetchall() for s, t in names
        }


def snapshot_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
