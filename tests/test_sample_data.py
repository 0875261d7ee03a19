"""The sample landing-zone generator: determinism, contracts, injected problems, invariants, layouts."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from api.policies.service import bucket_of
from devtools.sample_data import DECOY_TYPES, MISMATCH_TYPES, generate_landing_zone
from devtools.sample_data import generator as generator_module
from devtools.sample_data import writer as writer_module
from devtools.sample_data.books import (
    BOOKS_DECOY_TYPES,
    ESCROW_MISMATCH_TYPES,
    FINANCE_MISMATCH_TYPES,
    KERNEL_PROVIDER,
)
from ingestion.contracts import DATASETS, REASON_CODES
from settld.core import canonical_hash, period_bounds
from tests.sample_zone import (
    CSV_REASONS,
    INVOICE_MISMATCH,
    JSONL_REASONS,
    KERNEL_RAIL,
    PERIODS,
    bad_rows,
    check_value,
    digests,
    injected,
    load,
    raw_records,
    reconcile,
)


@pytest.fixture(scope="module")
def zone(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("zone") / "landing"
    return root, generate_landing_zone(root)


@pytest.fixture(scope="module")
def tables(zone) -> dict[str, pl.DataFrame]:
    root, manifest = zone
    return {name: load(root, manifest, name) for name in KERNEL_RAIL}


# ------------------------------------------------------------------------------------------- tests
def test_same_arguments_write_identical_bytes_and_seed_changes_data(zone, tmp_path):
    root, manifest = zone
    again = generate_landing_zone(tmp_path / "again")
    assert again == manifest
    assert digests(tmp_path / "again") == digests(root)
    other = generate_landing_zone(tmp_path / "other", seed=8)
    for name in KERNEL_RAIL:
        assert {f["sha256"] for f in other["datasets"][name]["files"]}.isdisjoint(
            f["sha256"] for f in manifest["datasets"][name]["files"]
        )


def test_layout_and_manifest_agree_with_files(zone):
    root, manifest = zone
    listed = {f["path"] for d in manifest["datasets"].values() for f in d["files"]}
    on_disk = set(digests(root)) - {"manifest.json", "injected.csv"}
    assert listed == on_disk
    assert (root / "manifest.json").read_text(encoding="utf-8").endswith("}\n")
    assert json.loads((root / "manifest.json").read_text(encoding="utf-8")) == manifest
    formats = {f["path"]: f["format"] for d in manifest["datasets"].values() for f in d["files"]}
    for period in PERIODS:
        assert formats[f"settlements/settlements-{period}.jsonl"] == "jsonl"
        assert formats[f"payout_instructions/payout_instructions-{period}.csv"] == "csv"
        assert formats[f"money_rail_operations/operations-stripe_connect-{period}.jsonl"] == "jsonl"
        assert formats[f"money_rail_operations/operations-wire_fedline-{period}.csv"] == "csv"
        assert formats[f"money_rail_operations/operations-usdc_circle-{period}.parquet"] == "parquet"
        assert formats[f"stripe/events/events-{period}.jsonl"] == "jsonl"
    for name, dataset in manifest["datasets"].items():
        for entry in dataset["files"]:
            path = root / entry["path"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            if entry["format"] == "parquet":
                rows = pl.read_parquet(path).height
            else:
                rows = path.read_bytes().count(b"\n") - (entry["format"] == "csv")
            assert rows == entry["rows"], entry["path"]
        assert dataset["rows"] == sum(f["rows"] for f in dataset["files"]), name
    assert manifest["injected_sha256"] == hashlib.sha256((root / "injected.csv").read_bytes()).hexdigest()
    # ~60 instructions per tenant-period and scale
    assert abs(manifest["datasets"]["payout_instructions"]["rows"] - 4 * 3 * 60) < 4 * 3 * 60 * 0.05


SORT_KEYS = {
    "settlements": ["tenant_id", "settlement_id"],
    "payout_instructions": ["tenant_id", "payout_key", "created_at"],
    "money_rail_operations": ["tenant_id", "operation_id"],
}


def test_files_are_sorted_by_a_unique_key(zone):
    root, manifest = zone
    for name, key in SORT_KEYS.items():
        for entry in manifest["datasets"][name]["files"]:
            rows = [
                tuple(r[k] for k in key) for r in raw_records(root, entry, bad_rows(manifest, entry["path"]))
            ]
            assert rows == sorted(rows) and len(set(rows)) == len(rows), entry["path"]


def test_kernel_and_rail_rows_follow_the_contracts(tables):
    # `load` checked names, order, JSON types, enums, integers, currencies, periods, timestamps
    assert tables["settlements"].height > 1000
    assert set(tables["settlements"]["currency"]) == {"USD", "EUR", "GBP"}
    assert set(tables["money_rail_operations"]["provider_id"]) == {
        "stripe_connect",
        "wire_fedline",
        "usdc_circle",
    }
    assert set(tables["money_rail_operations"]["state"]) == set(
        DATASETS["money_rail_operations"].columns[7].values
    )


def test_malformed_rows_break_exactly_the_declared_rule(zone):
    root, manifest = zone
    bad = manifest["malformed"]["rows"]
    assert manifest["malformed"]["counts"] == dict(Counter(r["reason_code"] for r in bad))
    by_format = defaultdict(set)
    for row in bad:
        assert row["reason_code"] in REASON_CODES
        fmt = row["file"].rsplit(".", 1)[1]
        by_format[fmt].add(row["reason_code"])
        lines = (root / row["file"]).read_text(encoding="utf-8").splitlines()
        line = lines[row["row"] - (fmt == "jsonl")]  # CSV: the header is line 0
        contract = DATASETS[row["dataset"]]
        if row["reason_code"] == "invalid_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
            continue
        if row["reason_code"] == "malformed_row":
            assert len(next(csv.reader([line]))) == len(contract.columns) + 1
            continue
        if fmt == "jsonl":
            values = json.loads(line)
        else:
            values = dict(zip(contract.column_names, next(csv.reader([line])), strict=True))
        assert tuple(values) == contract.column_names
        broken = []
        for column in contract.columns:
            value = values[column.name]
            value = None if value == "" and fmt == "csv" and not column.required else value
            try:
                check_value(column, value, fmt)
            except AssertionError:
                broken.append(column.name)
        assert broken == [row["column"]], row
    assert by_format["jsonl"] == JSONL_REASONS and by_format["csv"] == CSV_REASONS
    assert "parquet" not in by_format


def test_every_problem_is_injected_counted_and_exactly_what_a_reconciliation_finds(zone, tables):
    root, manifest = zone
    everything = injected(root)
    books = Counter(everything.filter(pl.col("provider_id") == KERNEL_PROVIDER)["mismatch_type"].to_list())
    # their findings: tests/test_finance_integrity.py
    assert set(books) <= {*FINANCE_MISMATCH_TYPES, *ESCROW_MISMATCH_TYPES, *BOOKS_DECOY_TYPES}
    everything = everything.filter(pl.col("provider_id") != KERNEL_PROVIDER)
    counts = Counter(everything["mismatch_type"].to_list())
    assert set(counts) == {*MISMATCH_TYPES, *DECOY_TYPES, INVOICE_MISMATCH}
    kinds = (*MISMATCH_TYPES, INVOICE_MISMATCH, *FINANCE_MISMATCH_TYPES, *ESCROW_MISMATCH_TYPES)
    assert manifest["injected"] == {t: counts[t] + books[t] for t in kinds}
    assert manifest["decoys"] == {t: counts[t] + books[t] for t in (*DECOY_TYPES, *BOOKS_DECOY_TYPES)}
    assert manifest["injected_rows"] == everything.height + books.total()
    assert everything.select("tenant_id", "period", "mismatch_type", "mismatch_key").is_unique().all()
    truth = everything.filter(pl.col("mismatch_type") != INVOICE_MISMATCH)  # tests/test_sample_invoices.py
    instructions = manifest["datasets"]["payout_instructions"]["rows"]
    for kind in MISMATCH_TYPES:
        assert 0.004 <= counts[kind] / instructions <= 0.025, kind
    for tenant in ("tnt_acme", "tnt_globex", "tnt_initech", "tnt_umbrella"):
        kinds = set(truth.filter(pl.col("tenant_id") == tenant)["mismatch_type"])
        assert kinds == set(MISMATCH_TYPES) | set(DECOY_TYPES), tenant
    assert truth.select("mismatch_type", "mismatch_key").is_unique().all()
    assert set(truth["provider_id"]) == {"stripe_connect", "wire_fedline", "usdc_circle"}
    assert truth.filter(pl.col("mismatch_type") == "stale_in_flight")["period"].max() < PERIODS[-1]
    assert set(truth.filter(pl.col("mismatch_type") == "decoy_in_flight_within_grace")["period"]) == {
        PERIODS[-1]
    }

    found = reconcile(tables["payout_instructions"], tables["money_rail_operations"], PERIODS[-1])
    expected = {
        tuple(r)
        for r in truth.filter(pl.col("mismatch_type").is_in(MISMATCH_TYPES))
        .select("tenant_id", "period", "provider_id", "mismatch_type", "mismatch_key")
        .iter_rows()
    }
    assert found == expected
    ops = tables["money_rail_operations"]
    collections = truth.filter(pl.col("mismatch_type") == "decoy_collection")["mismatch_key"]
    assert ops.filter(pl.col("operation_id").is_in(collections.implode()))[
        "direction"
    ].unique().to_list() == ["collection"]
    amount_notes = truth.filter(pl.col("mismatch_type") == "amount_mismatch")["note"]
    assert all(1 <= abs(int(re.search(r"(-?\d+) cents", n).group(1))) <= 5000 for n in amount_notes)


def test_money_invariants(tables):
    s = tables["settlements"]
    resolved = s.filter(pl.col("status") != "locked")
    assert (
        resolved["released_amount_cents"] + resolved["refunded_amount_cents"] == resolved["amount_cents"]
    ).all()
    locked = s.filter(pl.col("status") == "locked")
    assert locked["released_amount_cents"].is_null().all() and locked["resolved_at"].is_null().all()
    assert (resolved["resolved_at"] > resolved["locked_at"]).all()
    assert s.select("tenant_id", "settlement_id").is_unique().all()
    shares = s["status"].value_counts(normalize=True).to_dict(as_series=False)
    share = dict(zip(shares["status"], shares["proportion"], strict=True))
    assert (
        0.78 < share["released"] < 0.92 and 0.03 < share["refunded"] < 0.12 and 0.03 < share["locked"] < 0.13
    )

    released = (
        resolved.with_columns(period=pl.col("resolved_at").str.slice(0, 7))
        .group_by("tenant_id", "payee_agent_id", "period")
        .agg(pl.col("released_amount_cents").sum())
        .filter(pl.col("released_amount_cents") > 0)
    )
    i = tables["payout_instructions"].unique(["tenant_id", "payout_key"])
    payees = i.group_by("tenant_id", "party_id").agg(pl.col("provider_id", "destination_ref").n_unique())
    assert (payees["provider_id"] == 1).all() and (payees["destination_ref"] == 1).all()
    assert payees.group_by("tenant_id").len()["len"].min() > 60
    joined = i.join(
        released,
        left_on=["tenant_id", "party_id", "period"],
        right_on=["tenant_id", "payee_agent_id", "period"],
        how="full",
    )
    assert (joined["amount_cents"] == joined["released_amount_cents"]).all()
    assert joined["amount_cents"].null_count() == 0 and joined["released_amount_cents"].null_count() == 0
    for row in i.iter_rows(named=True):
        statement = canonical_hash(
            {k: row[k] for k in ("tenant_id", "party_id", "period", "amount_cents", "currency")}
        )
        assert row["statement_hash"] == statement
        assert (
            row["payout_key"]
            == f"{row['tenant_id']}:party:{row['party_id']}:period:{row['period']}:statement:{statement}"
        )
        _, end = period_bounds(row["period"])
        created = datetime.strptime(row["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert end < created < end + timedelta(hours=12) and row["party_role"] == "payee"


def test_operation_timestamps_follow_the_state_machine(zone, tables):
    _, manifest = zone
    ops = tables["money_rail_operations"]
    # state -> the timestamps that must be set, in order ("?": optional)
    steps = {
        "initiated": ["initiated_at"],
        "submitted": ["initiated_at", "submitted_at"],
        "confirmed": ["initiated_at", "submitted_at", "confirmed_at"],
        "reversed": ["initiated_at", "submitted_at", "confirmed_at", "reversed_at"],
        "failed": ["initiated_at", "submitted_at?", "failed_at"],
        "cancelled": ["initiated_at", "submitted_at?", "cancelled_at"],
    }
    stamps = ("initiated_at", "submitted_at", "confirmed_at", "failed_at", "cancelled_at", "reversed_at")
    created = dict(
        tables["payout_instructions"].group_by("payout_key").agg(pl.col("created_at").min()).iter_rows()
    )
    assert ops["operation_id"].is_unique().all()
    for op in ops.iter_rows(named=True):
        path = [s.rstrip("?") for s in steps[op["state"]] if not s.endswith("?") or op[s.rstrip("?")]]
        assert {s for s in stamps if op[s]} == set(path), op["operation_id"]
        values = [op[s] for s in path]
        assert values == sorted(values) and len(set(values)) == len(values), op["operation_id"]
        assert op["updated_at"] == values[-1] <= manifest["as_of"]
        assert (op["reason_code"] is not None) == (op["state"] in ("failed", "cancelled", "reversed"))
        if op["payout_key"] in created:
            assert op["initiated_at"] > created[op["payout_key"]]
            base = "mop_" + op["payout_key"]
            assert op["operation_id"] == base or re.fullmatch(re.escape(base) + r":r\d", op["operation_id"])


def test_parquet_and_csv_formats_hold_the_same_rows(zone, tables, tmp_path):
    root, manifest = zone
    for fmt in ("parquet", "csv"):
        out = tmp_path / fmt
        m = generate_landing_zone(out, fmt=fmt)
        for name in KERNEL_RAIL:
            assert {f["format"] for f in m["datasets"][name]["files"]} == {fmt}
            frame = load(out, m, name)
            assert frame.equals(tables[name]), (fmt, name)
        assert (out / "injected.csv").read_bytes() == (root / "injected.csv").read_bytes()
        reasons = set(m["malformed"]["counts"])
        assert reasons == (set() if fmt == "parquet" else CSV_REASONS)
    unmarked = generate_landing_zone(tmp_path / "clean", fmt="csv", malformed=False)
    assert unmarked["malformed"] == {"counts": {}, "rows": []}


def test_adding_a_tenant_leaves_existing_tenants_unchanged(tmp_path):
    two = generate_landing_zone(tmp_path / "two", tenants=2, fmt="parquet")
    three = generate_landing_zone(tmp_path / "three", tenants=3, fmt="parquet")
    first_two = pl.col("tenant_id").is_in(["tnt_acme", "tnt_globex"])
    for name in KERNEL_RAIL:
        a = load(tmp_path / "two", two, name, validate=False)
        b = load(tmp_path / "three", three, name, validate=False)
        assert set(b["tenant_id"]) == {"tnt_acme", "tnt_globex", "tnt_initech"}
        assert b.filter(first_two).equals(a), name
    a, b = injected(tmp_path / "two"), injected(tmp_path / "three")
    key = ["period", "tenant_id", "provider_id", "mismatch_type", "mismatch_key"]
    assert b.filter(first_two).sort(key).equals(a.sort(key))


def test_big_chunks_are_split_into_tenant_parts(tmp_path, monkeypatch):
    whole = generate_landing_zone(
        tmp_path / "whole", tenants=2, periods=["2026-09"], fmt="jsonl", malformed=False
    )
    monkeypatch.setattr(generator_module, "PART_ROWS", 50)
    monkeypatch.setattr(writer_module, "PART_ROWS", 50)
    parts = generate_landing_zone(
        tmp_path / "parts", tenants=2, periods=["2026-09"], fmt="jsonl", malformed=False
    )
    assert parts["layout"] == "per_tenant_parts"
    names = [f["path"] for f in parts["datasets"]["settlements"]["files"]]
    assert "settlements/settlements-2026-09-t0002-part0001.jsonl" in names
    assert all(re.fullmatch(r"settlements/settlements-2026-09-t000[12]-part\d{4}\.jsonl", n) for n in names)
    for name in KERNEL_RAIL:
        assert all(f["rows"] <= 50 for f in parts["datasets"][name]["files"])
        a = load(tmp_path / "whole", whole, name).sort(DATASETS[name].column_names)
        b = load(tmp_path / "parts", parts, name).sort(DATASETS[name].column_names)
        assert a.equals(b), name


def test_output_directory_rules(tmp_path):
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "keep.txt").write_text("not a landing zone")
    with pytest.raises(ValueError, match="manifest.json"):
        generate_landing_zone(stranger, tenants=1, periods=["2026-09"])
    zone = tmp_path / "zone"
    generate_landing_zone(zone, tenants=2, periods=["2026-08", "2026-09"])
    (zone / "README.txt").write_text("operator notes")
    seen = []
    manifest = generate_landing_zone(
        zone, tenants=1, periods=["2026-09"], progress=lambda f, n: seen.append(f)
    )
    assert (zone / "README.txt").exists()
    files = {p for p in digests(zone) if p not in ("README.txt", "manifest.json", "injected.csv")}
    assert files == {f["path"] for d in manifest["datasets"].values() for f in d["files"]}
    assert set(seen) == files | {"injected.csv"}
    for bad in ({"periods": ["2026-09", "2026-08"]}, {"periods": ["2026-13"]}, {"fmt": "xml"}, {"scale": 0}):
        with pytest.raises(ValueError):
            generate_landing_zone(tmp_path / "bad", **bad)


def test_runs_get_the_registry_versions_by_the_rollout_rule_and_a_few_hashes_match_nothing(zone, tables):
    """Every settlement carries the canary preset when its run's bucket is below 10, else the active one,
    with that version's registered hash; the settlements the manifest lists carry a hash no version has."""
    _, manifest = zone
    registry = manifest["policy_registry"]
    refs = {(v["policy_id"], v["policy_version"]): v["policy_hash"] for v in registry["versions"]}
    unregistered = set(registry["unregistered_settlement_ids"])
    assert 0 < registry["unregistered"] == len(unregistered) <= 2 * len(manifest["tenants"])
    canary = 0
    for row in tables["settlements"].iter_rows(named=True):
        in_canary = bucket_of(row["tenant_id"], row["run_id"]) < registry["rollout"]["canary_percent"]
        canary += in_canary
        assert row["policy_id"] == (
            "market.preset.high-autonomy-v1" if in_canary else "market.preset.balanced-v1"
        )
        registered = refs[(row["policy_id"], row["policy_version"])] == row["policy_hash"]
        assert registered != (row["settlement_id"] in unregistered), row["settlement_id"]
    assert 0.07 < canary / tables["settlements"].height < 0.13


def test_settlements_carry_dispute_windows_some_open_some_expired(zone, tables):
    """Dispute variety for arbitration: windows of several lengths (0 = none), ending before and after the
    zone's as-of, and settlements still locked (no window at all)."""
    _, manifest = zone
    as_of = datetime.fromisoformat(manifest["as_of"].replace("Z", "+00:00"))
    settlements = tables["settlements"]
    assert set(settlements["dispute_window_days"].unique().to_list()) == {0, 3, 7, 14, 30, 60}
    resolved = settlements.filter(pl.col("status") != "locked").with_columns(
        ends=pl.col("resolved_at").str.to_datetime(time_zone="UTC")
        + pl.duration(days=pl.col("dispute_window_days"))
    )
    assert resolved.filter(pl.col("ends") < as_of).height > 0
    assert resolved.filter(pl.col("ends") >= as_of).height > 0
    assert settlements.filter(pl.col("status") == "locked").height > 0
