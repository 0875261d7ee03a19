"""The loader on a real DuckDB file: formats, contract checks, quarantine, idempotent reloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from ingestion.finance_contracts import FINANCE_FOLDERS
from ingestion.loader import load_landing_zone
from tests.landing_rows import (
    INSTRUCTION,
    OPERATION,
    SETTLEMENT,
    STRIPE_EVENT,
    write_csv,
    write_jsonl,
    write_parquet,
)


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def quarantine(warehouse: Path, dataset: str) -> list[tuple]:
    return query(
        warehouse,
        "select source_row, reason_code, reason_detail from raw.quarantine where dataset = ? order by source_row",
        [dataset],
    )


def test_each_format_loads_with_types_and_metadata(landing: Path, warehouse_path: Path) -> None:
    write_jsonl(landing / "settlements/s.jsonl", [SETTLEMENT])
    write_csv(landing / "payout_instructions/p.csv", [INSTRUCTION], "payout_instructions")
    write_parquet(landing / "money_rail_operations/wire_fedline-2026-09.parquet", [OPERATION])
    write_jsonl(landing / "stripe/events/e.jsonl", [STRIPE_EVENT])

    summary = load_landing_zone(warehouse_path, landing)

    assert {name: s.rows_loaded for name, s in summary.items()} == {
        "settlements": 1,
        "payout_instructions": 1,
        "money_rail_operations": 1,
        "stripe_events": 1,
        **dict.fromkeys(
            FINANCE_FOLDERS, 0
        ),  # the kernel's books are optional (tests/test_ingestion_books.py)
    }
    assert all(s.balanced and s.rows_quarantined == 0 for s in summary.values())
    amount, resolved_at, source_file, row = query(
        warehouse_path, "select amount_cents, resolved_at, _source_file, _source_row from raw.settlements"
    )[0]
    assert (amount, str(resolved_at), source_file, row) == (
        1500,
        "2026-09-02 10:00:00",
        "settlements/s.jsonl",
        1,
    )
    # An empty CSV field is a null, not an empty string.
    assert query(warehouse_path, "select destination_ref is null from raw.payout_instructions") == [(True,)]
    assert (
        query(warehouse_path, "select confirmed_at, failed_at from raw.money_rail_operations")[0][1] is None
    )
    event = query(
        warehouse_path, "select event_id, created_at, tenant_id, object_type, payload from raw.stripe_events"
    )
    created = datetime.fromtimestamp(1790000000, UTC).replace(tzinfo=None)
    assert event[0][:4] == ("evt_1", created, "tnt_a", "subscription")
    assert json.loads(event[0][4])["id"] == "evt_1"


def test_timestamps_with_offsets_are_stored_in_utc(landing: Path, warehouse_path: Path) -> None:
    write_jsonl(
        landing / "settlements/s.jsonl", [{**SETTLEMENT, "resolved_at": "2026-09-02T10:00:00.250+02:00"}]
    )
    load_landing_zone(warehouse_path, landing)
    assert (
        str(query(warehouse_path, "select resolved_at from raw.settlements")[0][0])
        == "2026-09-02 08:00:00.250000"
    )


@pytest.mark.parametrize(
    ("change", "reason", "column"),
    [
        ({"amount_cents": 12.5}, "invalid_integer", "amount_cents"),
        ({"amount_cents": "abc"}, "invalid_integer", "amount_cents"),
        ({"amount_cents": 0}, "out_of_range", "amount_cents"),
        ({"status": "settled"}, "invalid_enum", "status"),
        ({"tenant_id": None}, "missing_required", "tenant_id"),
        ({"tenant_id": ""}, "missing_required", "tenant_id"),
        ({"settlement_id": {"id": 1}}, "invalid_type", "settlement_id"),
        ({"locked_at": "2026-02-30T10:00:00Z"}, "invalid_timestamp", "locked_at"),
        ({"locked_at": "2026-09-01 10:00:00"}, "invalid_timestamp", "locked_at"),
        ({"currency": "usd"}, "invalid_currency", "currency"),
    ],
)
def test_malformed_jsonl_row_lands_in_quarantine_with_its_reason(
    landing: Path, warehouse_path: Path, change: dict, reason: str, column: str
) -> None:
    bad = {**SETTLEMENT, "settlement_id": "setl_bad", **change}
    write_jsonl(landing / "settlements/s.jsonl", [SETTLEMENT, bad])

    summary = load_landing_zone(warehouse_path, landing, ["settlements"])["settlements"]

    assert (summary.rows_in, summary.rows_loaded, summary.rows_quarantined) == (2, 1, 1)
    assert quarantine(warehouse_path, "settlements") == [(2, reason, column)]
    payload = query(warehouse_path, "select raw_payload from raw.quarantine")[0][0]
    assert json.loads(payload) == json.loads(json.dumps(bad))


def test_unparseable_json_lines_are_quarantined_not_dropped(landing: Path, warehouse_path: Path) -> None:
    write_jsonl(landing / "settlements/s.jsonl", [SETTLEMENT, '{"tenant_id": "tnt_a",', "", "[1, 2]"])
    summary = load_landing_zone(warehouse_path, landing, ["settlements"])["settlements"]
    assert summary.balanced and summary.rows_in == 3  # the blank line is not a record
    assert quarantine(warehouse_path, "settlements") == [
        (2, "invalid_json", None),
        (4, "not_an_object", None),
    ]


def test_malformed_csv_rows_are_quarantined(landing: Path, warehouse_path: Path) -> None:
    path = write_csv(
        landing / "payout_instructions/p.csv",
        [INSTRUCTION, {**INSTRUCTION, "period": "2026-13"}, {**INSTRUCTION, "amount_cents": "1e3"}],
        "payout_instructions",
    )
    with path.open("a") as handle:
        handle.write("tnt_a,key,party,payee,2026-09,100,USD,wire,,,2026-10-01T00:00:00Z,extra\n")
    summary = load_landing_zone(warehouse_path, landing, ["payout_instructions"])["payout_instructions"]
    assert (summary.rows_in, summary.rows_loaded, summary.rows_quarantined) == (4, 1, 3)
    assert quarantine(warehouse_path, "payout_instructions") == [
        (2, "invalid_period", "period"),
        (3, "invalid_integer", "amount_cents"),
        (4, "malformed_row", None),
    ]


def test_csv_missing_a_required_column_is_rejected_not_quarantined_row_by_row(
    landing: Path, warehouse_path: Path
) -> None:
    path = landing / "payout_instructions/p.csv"
    path.parent.mkdir(parents=True)
    path.write_text("tenant_id,payout_key\ntnt_a,k1\ntnt_a,k2\n")
    summary = load_landing_zone(warehouse_path, landing, ["payout_instructions"])["payout_instructions"]
    assert quarantine(warehouse_path, "payout_instructions") == []
    assert [(f.status, f.reason) for f in summary.files] == [("rejected", "missing_required_column")]
    assert query(warehouse_path, "select status, reason, reason_detail from raw.load_files") == [
        (
            "rejected",
            "missing_required_column",
            "no column party_id, party_role, period, amount_cents, currency, provider_id, created_at; "
            "its 2 data rows are not loaded",
        )
    ]


def test_parquet_rows_are_checked_too(landing: Path, warehouse_path: Path) -> None:
    write_parquet(
        landing / "money_rail_operations/x.parquet",
        [OPERATION, {**OPERATION, "operation_id": "mop_2", "state": "completed"}],
    )
    load_landing_zone(warehouse_path, landing, ["money_rail_operations"])
    assert quarantine(warehouse_path, "money_rail_operations") == [(2, "invalid_enum", "state")]


def test_reloading_the_same_files_changes_nothing(landing: Path, warehouse_path: Path) -> None:
    write_jsonl(landing / "settlements/s.jsonl", [SETTLEMENT, {**SETTLEMENT, "status": "bogus"}])
    load_landing_zone(warehouse_path, landing)
    snapshot = [
        query(warehouse_path, f"select * from raw.{t} order by all")
        for t in ("settlements", "quarantine", "load_files")
    ]

    again = load_landing_zone(warehouse_path, landing)["settlements"]

    assert again.count("unchanged") == 1 and again.rows_in == 0
    assert [
        query(warehouse_path, f"select * from raw.{t} order by all")
        for t in ("settlements", "quarantine", "load_files")
    ] == snapshot


def test_a_changed_file_replaces_the_rows_it_carried(landing: Path, warehouse_path: Path) -> None:
    write_jsonl(
        landing / "settlements/a.jsonl", [SETTLEMENT, {**SETTLEMENT, "settlement_id": "x", "status": "?"}]
    )
    write_jsonl(landing / "settlements/b.jsonl", [{**SETTLEMENT, "settlement_id": "setl_b"}])
    load_landing_zone(warehouse_path, landing)

    write_jsonl(
        landing / "settlements/a.jsonl", [{**SETTLEMENT, "amount_cents": 2000, "released_amount_cents": 2000}]
    )
    summary = load_landing_zone(warehouse_path, landing)["settlements"]

    assert (summary.count("loaded"), summary.count("unchanged")) == (1, 1)
    assert query(warehouse_path, "select settlement_id, amount_cents from raw.settlements order by 1") == [
        ("setl_b", 1500),
        ("setl_r1", 2000),
    ]
    assert quarantine(warehouse_path, "settlements") == []
    assert query(
        warehouse_path, "select rows_in from raw.load_files where source_file = 'settlements/a.jsonl'"
    ) == [(1,)]


def test_unsupported_files_are_reported_not_silently_skipped(landing: Path, warehouse_path: Path) -> None:
    write_jsonl(landing / "settlements/s.jsonl", [SETTLEMENT])
    (landing / "settlements/notes.txt").write_text("hello")
    write_csv(
        landing / "stripe/events/e.csv", [], "payout_instructions"
    )  # Stripe events come as JSON Lines only
    summary = load_landing_zone(warehouse_path, landing)
    assert [(f.source_file, f.status) for f in summary["settlements"].files] == [
        ("settlements/notes.txt", "unsupported_format"),
        ("settlements/s.jsonl", "loaded"),
    ]
    assert summary["stripe_events"].count("unsupported_format") == 1


def test_unknown_dataset_and_missing_landing_dir_are_clear_errors(
    landing: Path, warehouse_path: Path
) -> None:
    with pytest.raises(ValueError, match="unknown datasets: nope"):
        load_landing_zone(warehouse_path, landing, ["nope"])
    with pytest.raises(FileNotFoundError):
        load_landing_zone(warehouse_path, landing / "absent")


def test_typed_parquet_columns_skip_text_checks_but_keep_the_rules(
    landing: Path, warehouse_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    created = datetime(2026, 10, 1, 2, 0, 0, 250000)
    table = pa.table(
        {
            **{
                k: pa.array([v, v, v])
                for k, v in INSTRUCTION.items()
                if k not in ("amount_cents", "created_at")
            },
            "payout_key": pa.array(["k1", "k2", "k3"]),
            "amount_cents": pa.array([1500, -1, None], pa.int32()),
            # zoned Parquet timestamps are converted to UTC: 04:00+02:00 is 02:00Z
            "created_at": pa.array(
                [created.replace(hour=4, tzinfo=timezone(timedelta(hours=2)))] * 3,
                pa.timestamp("us", tz="+02:00"),
            ),
        }
    )
    path = landing / "payout_instructions/p.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)

    summary = load_landing_zone(warehouse_path, landing, ["payout_instructions"])["payout_instructions"]

    assert (summary.rows_in, summary.rows_loaded, summary.rows_quarantined) == (3, 1, 2)
    assert query(
        warehouse_path, "select payout_key, amount_cents, created_at from raw.payout_instructions"
    ) == [("k1", 1500, created)]
    assert quarantine(warehouse_path, "payout_instructions") == [
        (2, "out_of_range", "amount_cents"),
        (3, "missing_required", "amount_cents"),
    ]
    payload = json.loads(
        query(warehouse_path, "select raw_payload from raw.quarantine order by source_row")[0][0]
    )
    # the payload holds the record's text, as if it had arrived as text
    assert payload["amount_cents"] == "-1" and payload["created_at"] == "2026-10-01T02:00:00.250000Z"


def test_parquet_with_an_untyped_column_is_checked_as_text(landing: Path, warehouse_path: Path) -> None:
    write_parquet(
        landing / "money_rail_operations/x.parquet",
        [{**OPERATION, "amount_cents": 1500.0}, {**OPERATION, "operation_id": "mop_2", "amount_cents": 12.5}],
    )
    load_landing_zone(warehouse_path, landing, ["money_rail_operations"])
    assert quarantine(warehouse_path, "money_rail_operations") == [
        (1, "invalid_integer", "amount_cents"),
        (2, "invalid_integer", "amount_cents"),
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_unknown_columns_are_ignored_but_kept_in_the_quarantine_payload(
    landing: Path, warehouse_path: Path, fmt: str
) -> None:
    rows = [{**INSTRUCTION, "note": "ok"}, {**INSTRUCTION, "period": "2026-13", "note": "bad"}]
    path = landing / f"payout_instructions/p.{fmt}"
    if fmt == "parquet":
        write_parquet(path, rows)
    else:
        path.parent.mkdir(parents=True)
        columns = [*INSTRUCTION, "note"]
        lines = [",".join(columns)] + [",".join(str(r[c] or "") for c in columns) for r in rows]
        path.write_text("\n".join(lines) + "\n")

    summary = load_landing_zone(warehouse_path, landing, ["payout_instructions"])["payout_instructions"]

    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 1)
    assert quarantine(warehouse_path, "payout_instructions") == [(2, "invalid_period", "period")]
    payload = json.loads(query(warehouse_path, "select raw_payload from raw.quarantine")[0][0])
    assert payload["note"] == "bad" and payload["period"] == "2026-13"
