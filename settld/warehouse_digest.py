"""An order-independent digest of each mart, the same on DuckDB, Postgres and Spark: `settld warehouse digest`.

Two warehouses built from the same landing zone and as-of instant hold the same marts; the digest lets
anyone compare them with `diff` (the parity tests do; so can a user migrating engines). It is the
multiset digest of dbt_project/macros/digests.sql (the report input digests), computed in Python over the
rows `settld.warehouse` returns, because that interface already gives every engine's rows as the same plain
Python values, where SQL would have to format timestamps, booleans and decimals alike on each engine:

    row text  each column's value (columns in name order) as canonical text, separated by chr(31); a null
              is `\\N`; integers and integral decimals in decimal, other numbers as their shortest exact
              decimal, booleans `true`/`false`, timestamps ISO (`YYYY-MM-DD HH:MM:SS.ffffff`, naive UTC)
    row hash  md5 hex of the row text; four 32-bit words
    digest    sha256 hex of "<columns>|<rows>|<sum of word 1>|...|<sum of word 4>"

A row's hash is summed, not sorted, so the digest needs no order and no string of all rows. Additive digests
can be collided on purpose: it tells equal marts from different ones, it does not authenticate them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from settld.warehouse import Warehouse

MART_SCHEMAS = ("marts",)
NULL = "\\N"
SEPARATOR = chr(31)


def value_text(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        exact = Decimal(repr(value)) if isinstance(value, float) else value
        if exact == exact.to_integral_value():
            return str(int(exact))
        return format(exact.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def multiset_digest(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> tuple[int, str]:
    """(rows, digest) of `rows`, whatever their order."""
    names = sorted(columns)
    count, sums = 0, [0, 0, 0, 0]
    for row in rows:
        text = SEPARATOR.join(value_text(row[name]) for name in names)
        row_hash = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
        for word in range(4):
            sums[word] += int(row_hash[word * 8 : word * 8 + 8], 16)
        count += 1
    header = ",".join(names)
    digest = hashlib.sha256(f"{header}|{count}|{'|'.join(map(str, sums))}".encode()).hexdigest()
    return count, digest


def mart_digests(db: Warehouse, schemas: tuple[str, ...] = MART_SCHEMAS) -> list[tuple[str, int, str]]:
    """(schema.table, rows, digest) of every relation in `schemas`, sorted by name."""
    lines = []
    for schema in schemas:
        for name in db.relations(schema):
            rows = db.query(f"select * from {schema}.{name}")
            columns = list(rows[0]) if rows else _empty_columns(db, schema, name)
            count, digest = multiset_digest(columns, rows)
            lines.append((f"{schema}.{name}", count, digest))
    return sorted(lines)


def _empty_columns(db: Warehouse, schema: str, name: str) -> list[str]:
    """The columns of an empty relation, by name (information_schema on DuckDB/Postgres, describe on Spark)."""
    if db.kind == "spark":
        described = db.query(f"describe {schema}.{name}")
        names = []
        for row in described:
            if not row["col_name"] or row["col_name"].startswith("#"):
                break  # the partition and detail sections follow a blank or `#` line
            names.append(row["col_name"])
        return names
    return [
        row["column_name"]
        for row in db.query(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, name],
        )
    ]


def digest_lines(db: Warehouse) -> list[str]:
    return [f"{name} {rows} {digest}" for name, rows, digest in mart_digests(db)]
