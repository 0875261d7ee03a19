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


# When a file was loaded, or a Stripe event reached the API (landed events arrive at load time): these
# record when, so they differ between any two runs; everything else is a function of the inputs.
LOAD_TIME_COLUMNS = {"_loaded_at", "loaded_at", "received_at"}
SCHEMAS = ("raw", "reference", "staging", "intermediate", "marts")


def warehouse_contents(db, schemas: tuple[str, ...] = SCHEMAS) -> dict[str, list[tuple]]:
    """Every relation of the pipeline's schemas (a `settld.warehouse` connection, either engine), without
    load times, rows in a canonical order."""
    contents = {}
    for schema in schemas:
        for name in db.relations(schema):
            rows = [
                tuple((k, v) for k, v in row.items() if k not in LOAD_TIME_COLUMNS)
                for row in db.query(f'select * from {schema}."{name}"')
            ]
            contents[f"{schema}.{name}"] = sorted(rows, key=repr)
    return contents


def warehouse_digest(warehouse_url: str) -> dict[str, str]:
    """sha256 of each relation's contents (`warehouse_contents`): equal digests, equal warehouses."""
    import hashlib

    from settld.settings import warehouse_target
    from settld.warehouse import connect

    with connect(warehouse_target(warehouse_url), read_only=True) as db:
        contents = warehouse_contents(db, (*SCHEMAS, "audit"))  # audit: the dbt tests' outcomes
    return {name: hashlib.sha256(repr(rows).encode()).hexdigest() for name, rows in contents.items()}
