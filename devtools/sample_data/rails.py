"""Money-rail operations of one (tenant, period) chunk, with injected reconciliation problems and decoys.

Each payout instruction normally gets one confirmed operation `mop_<payout_key>`. A random, disjoint
set of instructions gets exactly one injected problem (or decoy); every injection is returned as a row
of `injected.csv`. Operations are built as numpy columns per group, then turned into contract rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ingestion.contracts import OPERATION_STATES
from settld.vocabulary import MONEY_RAIL_MISMATCH_TYPES

from .kernel import Instructions
from .tenants import (
    CURRENCIES,
    DAY,
    HOUR,
    STREAM_RAILS,
    Tenant,
    period_epochs,
    stream,
)

MISMATCH_TYPES = MONEY_RAIL_MISMATCH_TYPES  # seed reconciliation_mismatch_types; each is injected below
DECOY_TYPES = (
    "decoy_retry_after_failure",
    "decoy_retry_after_cancel",
    "decoy_collection",
    "decoy_in_flight_within_grace",
)
INJECTION_TYPES = MISMATCH_TYPES + DECOY_TYPES
# Share of a chunk's instructions that get each problem (at least one each per chunk where applicable).
INSTRUCTION_RATES = {
    "missing_operation": 0.010,
    "amount_mismatch": 0.010,
    "currency_mismatch": 0.006,
    "terminal_failure": 0.010,
    "duplicate_expected": 0.008,
    "duplicate_operation": 0.006,
    "stale_in_flight": 0.008,
    "decoy_retry_after_failure": 0.012,
    "decoy_retry_after_cancel": 0.008,
    "decoy_in_flight_within_grace": 0.020,
}
# Operations no instruction asked for, as a share of a chunk's instructions.
OPERATION_RATES = {"unexpected_operation": 0.008, "decoy_collection": 0.010}
REASONS = (
    "account_closed",
    "insufficient_funds",
    "invalid_destination",
    "chargeback",
    "cancelled_by_operator",
    "duplicate_request",
    "rate_limited",
    "bank_timeout",
)
_R = {name: i for i, name in enumerate(REASONS)}
_S = {name: i for i, name in enumerate(OPERATION_STATES)}
KIND_INSTRUCTION, KIND_UNKNOWN_KEY, KIND_NULL_KEY, KIND_COLLECTION = 0, 1, 2, 3
TIME_COLUMNS = ("ini", "sub", "conf", "fail", "canc", "rev")


def _times(g: np.random.Generator, t0: np.ndarray, path: str) -> dict[str, np.ndarray]:
    """Timestamps of the states an operation went through, starting after t0 (epoch seconds, -1 = null)."""
    m = t0.size
    null = np.full(m, -1, dtype=np.int64)
    ini = t0 + g.integers(5 * 60, 3 * HOUR, m)
    sub = ini + g.integers(60, HOUR, m)
    conf = sub + g.integers(30 * 60, 12 * HOUR, m)
    via_submitted = g.random(m) < 0.6
    after = np.where(via_submitted, sub, ini) + g.integers(10 * 60, 6 * HOUR, m)
    out = {"ini": ini, "sub": null, "conf": null, "fail": null, "canc": null, "rev": null}
    if path in ("submitted", "confirmed", "reversed"):
        out["sub"] = sub
    if path in ("confirmed", "reversed"):
        out["conf"] = conf
    if path == "reversed":
        out["rev"] = conf + g.integers(2 * HOUR, 12 * HOUR, m)
    if path in ("failed", "cancelled"):
        out["sub"] = np.where(via_submitted, sub, -1)
        out["fail" if path == "failed" else "canc"] = after
    return out


@dataclass
class _Ops:
    parts: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(self, g: np.random.Generator, t0: np.ndarray, path: str, **columns) -> dict[str, np.ndarray]:
        m = t0.size
        times = _times(g, t0, path)
        row = {
            "attempt": 1,
            "kind": KIND_INSTRUCTION,
            "seq": 0,
            "direction": 0,
            "reason": -1,
            "state": _S[path],
            "ref": g.integers(0, 2**63 - 1, m),
            **times,
            **columns,
        }
        self.parts.append({k: np.broadcast_to(np.asarray(v, dtype=np.int64), (m,)) for k, v in row.items()})
        return times

    def concat(self) -> dict[str, np.ndarray]:
        keys = self.parts[0].keys()
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}


@dataclass
class Rails:
    operations: dict[str, np.ndarray]
    injected: pl.DataFrame  # instruction-based injections: instr, type, note
    duplicate_rows: np.ndarray  # instruction positions delivered twice
    duplicate_created: np.ndarray  # created_at (epoch) of the second copies


def _plan(g: np.random.Generator, n: int, is_last: bool) -> tuple[dict[str, np.ndarray], np.ndarray]:
    types = [
        t
        for t in INSTRUCTION_RATES
        if not (t == "stale_in_flight" and is_last)
        and not (t == "decoy_in_flight_within_grace" and not is_last)
    ]
    perm = g.permutation(n)
    groups: dict[str, np.ndarray] = {}
    position = 0
    for name in types:
        count = min(max(1, round(n * INSTRUCTION_RATES[name])), n - position)
        groups[name] = np.sort(perm[position : position + count])
        position += count
    return groups, np.sort(perm[position:])


def build_operations(
    tenant: Tenant, period_index: int, period: str, seed: int, instructions: Instructions, is_last: bool
) -> Rails:
    g = stream(seed, tenant.index, period_index, STREAM_RAILS)
    f = instructions.frame
    created = f["created"].to_numpy()
    amount = f["amount_cents"].to_numpy()
    provider = f["provider"].to_numpy()
    cur = tenant.currency_code
    groups, normal = _plan(g, f.height, is_last)
    ops = _Ops()
    notes: list[pl.DataFrame] = []

    def note(idx: np.ndarray, kind: str, text: pl.Series | str) -> None:
        texts = text if isinstance(text, pl.Series) else pl.Series([text] * idx.size, dtype=pl.String)
        notes.append(
            pl.DataFrame(
                {
                    "instr": idx.astype(np.int64),
                    "type": np.full(idx.size, INJECTION_TYPES.index(kind)),
                    "note": texts,
                }
            )
        )

    def add(idx: np.ndarray, path: str, t0: np.ndarray | None = None, **columns) -> dict[str, np.ndarray]:
        base = {"instr": idx, "provider": provider[idx], "amount": amount[idx], "currency": cur}
        return ops.add(g, created[idx] if t0 is None else t0, path, **(base | columns))

    def reasons(idx: np.ndarray, choices: tuple[str, ...]) -> np.ndarray:
        return np.array([_R[c] for c in choices])[g.integers(0, len(choices), idx.size)]

    def reason_text(codes: np.ndarray, prefix: str, suffix: str = "") -> pl.Series:
        return pl.select(
            pl.lit(prefix) + pl.lit(pl.Series(REASONS).gather(codes)) + pl.lit(suffix)
        ).to_series()

    add(normal, "confirmed")

    idx = groups["missing_operation"]
    cancelled = g.random(idx.size) < 0.35
    add(idx[cancelled], "cancelled", reason=_R["cancelled_by_operator"])
    note(
        idx,
        "missing_operation",
        pl.Series(np.where(cancelled, "only a cancelled attempt", "no operation at all")),
    )

    idx = groups["amount_mismatch"]
    delta = g.integers(1, 5001, idx.size)
    delta = np.where((g.random(idx.size) < 0.5) & (amount[idx] - delta >= 1), -delta, delta)
    add(idx, "confirmed", amount=amount[idx] + delta)
    note(
        idx,
        "amount_mismatch",
        pl.select(pl.format("operation amount differs by {} cents", pl.lit(pl.Series(delta)))).to_series(),
    )

    idx = groups["currency_mismatch"]
    other = (cur + 1 + g.integers(0, len(CURRENCIES) - 1, idx.size)) % len(CURRENCIES)
    add(idx, "confirmed", currency=other)
    note(
        idx,
        "currency_mismatch",
        pl.select(
            pl.lit("operation paid in ")
            + pl.lit(pl.Series(CURRENCIES).gather(other))
            + pl.lit(f" instead of {tenant.currency}")
        ).to_series(),
    )

    idx = groups["terminal_failure"]
    variant = g.choice(3, idx.size, p=[0.4, 0.25, 0.35])
    once, twice, reversed_ = idx[variant == 0], idx[variant == 1], idx[variant == 2]
    fatal = ("account_closed", "insufficient_funds", "invalid_destination")
    codes = reasons(once, fatal)
    add(once, "failed", reason=codes)
    note(once, "terminal_failure", reason_text(codes, "only attempt failed: "))
    codes = reasons(twice, fatal)
    first = add(twice, "failed", reason=codes)
    add(twice, "failed", t0=first["fail"], attempt=2, reason=codes)
    note(twice, "terminal_failure", reason_text(codes, "attempt and retry failed: "))
    add(reversed_, "reversed", reason=_R["chargeback"])
    note(reversed_, "terminal_failure", "confirmed then reversed: chargeback")

    idx = groups["duplicate_expected"]
    add(idx, "confirmed")
    note(idx, "duplicate_expected", "instruction row delivered twice, one operation")
    duplicate_created = created[idx] + g.integers(HOUR, 6 * HOUR, idx.size)

    idx = groups["duplicate_operation"]
    first = add(idx, "confirmed")
    add(idx, "confirmed", t0=first["ini"] + g.integers(HOUR, 4 * HOUR, idx.size), attempt=2)
    note(idx, "duplicate_operation", "two confirmed operations for one payout key (double payment)")

    if "stale_in_flight" in groups:
        idx = groups["stale_in_flight"]
        submitted = g.random(idx.size) < 0.6
        t0 = created[idx] + g.integers(0, 2 * DAY, idx.size)
        add(idx[submitted], "submitted", t0=t0[submitted])
        add(idx[~submitted], "initiated", t0=t0[~submitted])
        note(idx, "stale_in_flight", pl.Series(np.where(submitted, "still submitted", "still initiated")))

    idx = groups["decoy_retry_after_failure"]
    codes = reasons(idx, ("insufficient_funds", "rate_limited", "bank_timeout"))
    first = add(idx, "failed", reason=codes)
    add(idx, "confirmed", t0=first["fail"], attempt=2)
    note(idx, "decoy_retry_after_failure", reason_text(codes, "attempt failed (", ") then a confirmed retry"))

    idx = groups["decoy_retry_after_cancel"]
    codes = reasons(idx, ("cancelled_by_operator", "duplicate_request"))
    first = add(idx, "cancelled", reason=codes)
    add(idx, "confirmed", t0=first["canc"], attempt=2)
    note(
        idx, "decoy_retry_after_cancel", reason_text(codes, "attempt cancelled (", ") then a confirmed retry")
    )

    if "decoy_in_flight_within_grace" in groups:
        idx = groups["decoy_in_flight_within_grace"]
        add(idx, "submitted")
        note(
            idx, "decoy_in_flight_within_grace", "still submitted, inside the grace window of the last period"
        )

    start, end = period_epochs(period)
    providers = np.array(tenant.providers)
    for kind, rate in (
        (KIND_NULL_KEY, OPERATION_RATES["unexpected_operation"]),
        (KIND_COLLECTION, OPERATION_RATES["decoy_collection"]),
    ):
        m = max(1, round(f.height * rate))
        kinds = np.full(m, kind)
        if kind == KIND_NULL_KEY:  # unexpected: unknown payout_key or null payout_key
            kinds = np.where(g.random(m) < 0.5, KIND_UNKNOWN_KEY, KIND_NULL_KEY)
            kinds[0] = KIND_NULL_KEY if period_index % 2 == 0 else KIND_UNKNOWN_KEY
        t0 = start + g.integers(0, end - start - DAY, m)
        value = np.clip(np.rint(g.lognormal(np.log(30_000), 1.0, m)), 100, 5_000_000).astype(np.int64)
        ops.add(
            g,
            t0,
            "confirmed",
            instr=-1,
            kind=kinds,
            seq=np.arange(1, m + 1),
            currency=cur,
            amount=value,
            provider=providers[g.integers(0, providers.size, m)],
            direction=int(kind == KIND_COLLECTION),
        )

    injected = (
        pl.concat(notes)
        if notes
        else pl.DataFrame(schema={"instr": pl.Int64, "type": pl.Int64, "note": pl.String})
    )
    return Rails(ops.concat(), injected, groups["duplicate_expected"], duplicate_created)
