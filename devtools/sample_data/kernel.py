"""Settlement-kernel exports of one (tenant, period) chunk: settlements and payout instructions.

Everything is generated as numpy columns first (cheap to hold for millions of rows); the string
columns of the contract are only built for the slice being written (`settlements_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from .policies import policy_columns
from .tenants import (
    DAY,
    HOUR,
    PROVIDER_WEIGHTS,
    PROVIDERS,
    STREAM_INSTRUCTIONS,
    STREAM_SETTLEMENTS,
    Tenant,
    encode,
    iso,
    keyed_hash,
    period_epochs,
    stream,
    unit_float,
    zfill,
)

PAYEE_POOL_PER_SCALE = 80  # payee agents known to a tenant, per unit of scale
PAYEE_ACTIVE_SHARE = 0.80  # share of them paid in a given period
PAYER_POOL_PER_SCALE = 20
SETTLEMENTS_PER_PAYEE = (np.array([1, 2, 3]), [0.45, 0.35, 0.20])
MAX_SETTLEMENTS_PER_SCALE = 3 * PAYEE_POOL_PER_SCALE  # upper bound per tenant-period (file layout)

LOCKED, RELEASED, REFUNDED = 0, 1, 2
STATUSES = ("locked", "released", "refunded")
DISPUTES = ("none", "open", "closed")
RELEASE_RATES = (np.array([100, 90, 70, 50]), [0.82, 0.07, 0.06, 0.05])
# Dispute windows (days after resolution), picked by the row's sequence, not by a random draw, so every
# other column stays what it was before windows existed. With months of data, short windows of older
# settlements have expired at the demo's as-of and the newest month's are still open; 0 means none.
DISPUTE_WINDOW_DAYS = (7, 14, 30, 3, 7, 0, 14, 60)


def sha256_column(texts: pl.Series) -> pl.Series:
    """sha256 hex of every string, vectorised in DuckDB (same digest as hashlib over UTF-8)."""
    with duckdb.connect() as con:
        con.register("texts", pl.DataFrame({"t": texts}).to_arrow())
        result = con.sql("select sha256(t) as h from texts").to_arrow_table()
    return pl.from_arrow(result).to_series().rename(texts.name or "sha256")


def payee_id(tenant: Tenant, column: str = "payee") -> pl.Expr:
    return pl.lit(f"agt_{tenant.slug}_s") + zfill(column, 7)


@dataclass
class Settlements:
    columns: dict[str, np.ndarray]  # sorted by locked_at; settlement number = position + 1
    payees: np.ndarray  # active payee indexes (sorted)
    released_by_payee: np.ndarray  # int64, aligned with payees

    @property
    def rows(self) -> int:
        return int(self.columns["amount"].size)


def generate_settlements(
    tenant: Tenant, period_index: int, period: str, seed: int, scale: int
) -> Settlements:
    g = stream(seed, tenant.index, period_index, STREAM_SETTLEMENTS)
    start, end = period_epochs(period)
    payees = np.flatnonzero(g.random(PAYEE_POOL_PER_SCALE * scale) < PAYEE_ACTIVE_SHARE)
    per_payee = g.choice(SETTLEMENTS_PER_PAYEE[0], size=payees.size, p=SETTLEMENTS_PER_PAYEE[1])
    position = np.repeat(np.arange(payees.size), per_payee)
    n = position.size
    payer = g.integers(0, PAYER_POOL_PER_SCALE * scale, n)
    amount = np.clip(np.rint(g.lognormal(np.log(24_000), 1.0, n)), 100, 5_000_000).astype(np.int64)
    u = g.random(n)
    status = np.where(u < 0.08, LOCKED, np.where(u < 0.15, REFUNDED, RELEASED)).astype(np.int8)
    rate = g.choice(RELEASE_RATES[0], size=n, p=RELEASE_RATES[1])
    rate[status == REFUNDED] = 0
    released = amount * rate // 100
    refunded = amount - released
    locked = status == LOCKED
    released[locked] = -1
    refunded[locked] = -1
    locked_at = start + g.integers(0, end - start - 2 * DAY, n)
    resolved_at = np.minimum(
        locked_at + 600 + g.exponential(1.5 * DAY, n).astype(np.int64), end - 1 - g.integers(0, HOUR, n)
    )
    locked_at[locked] = end - g.integers(HOUR, 4 * DAY, int(locked.sum()))
    resolved_at[locked] = -1
    d = g.random(n)
    dispute = np.where(locked & (d < 0.125), 1, np.where(~locked & (d < 0.022), 2, 0)).astype(np.int8)
    order = np.argsort(locked_at, kind="stable")
    columns = {
        "payee": payees[position][order],
        "payer": payer[order],
        "amount": amount[order],
        "released": released[order],
        "refunded": refunded[order],
        "status": status[order],
        "locked_at": locked_at[order],
        "resolved_at": resolved_at[order],
        "dispute": dispute[order],
    }
    paid = np.bincount(position, weights=np.where(locked, 0, released), minlength=payees.size)
    return Settlements(columns, payees, np.rint(paid).astype(np.int64))


def settlements_frame(
    tenant: Tenant, period: str, s: Settlements, lo: int, hi: int, *, inject_unregistered: bool = False
) -> pl.DataFrame:
    """Contract rows lo..hi-1 of a chunk (already sorted by settlement_id); the policy each run gets by the
    demo registry's rollout rule (policies.py), with `inject_unregistered` a few hashes no version has."""
    cols = {k: v[lo:hi] for k, v in s.columns.items()}
    cols["seq"] = np.arange(lo + 1, hi + 1, dtype=np.int64)
    run_id = pl.lit(f"run_{tenant.slug}_{period.replace('-', '')}_") + zfill("seq", 8)
    frame = pl.DataFrame(cols).with_columns(
        updated=pl.max_horizontal("locked_at", "resolved_at"),
        status_text=pl.Series(STATUSES).gather(cols["status"].astype(np.int64)),
        dispute_text=pl.Series(DISPUTES).gather(cols["dispute"].astype(np.int64)),
        **policy_columns(tenant.tenant_id, run_id, pl.col("seq"), inject=inject_unregistered),
    )
    released, refunded = pl.col("released"), pl.col("refunded")
    return frame.select(
        tenant_id=pl.lit(tenant.tenant_id),
        settlement_id=pl.lit("setl_") + run_id,
        run_id=run_id,
        payer_agent_id=pl.lit(f"agt_{tenant.slug}_b") + zfill("payer", 7),
        payee_agent_id=payee_id(tenant),
        amount_cents=pl.col("amount"),
        released_amount_cents=pl.when(released >= 0).then(released),
        refunded_amount_cents=pl.when(refunded >= 0).then(refunded),
        currency=pl.lit(tenant.currency),
        status=pl.col("status_text"),
        policy_id=pl.col("policy_id"),
        policy_version=pl.col("policy_version"),
        policy_hash=pl.col("policy_hash"),
        locked_at=iso("locked_at"),
        resolved_at=iso("resolved_at"),
        dispute_status=pl.col("dispute_text"),
        dispute_window_days=pl.Series(DISPUTE_WINDOW_DAYS, dtype=pl.Int64).gather(
            pl.Series(cols["seq"] % len(DISPUTE_WINDOW_DAYS))
        ),
        updated_at=iso("updated"),
    )


# --------------------------------------------------------------------------------------- payees
def payee_attributes(tenant: Tenant, seed: int, payees: np.ndarray) -> tuple[np.ndarray, pl.Series]:
    """Provider index (into PROVIDERS) and destination_ref of each payee, the same in every period."""
    weights = np.array([PROVIDER_WEIGHTS[p] for p in tenant.providers])
    cumulative = np.cumsum(weights / weights.sum())
    u = unit_float(keyed_hash(seed, tenant.index, 1, payees))
    provider = np.array(tenant.providers)[
        np.minimum(np.searchsorted(cumulative, u, side="right"), weights.size - 1)
    ]
    h1, h2, h3 = (keyed_hash(seed, tenant.index, salt, payees) for salt in (2, 3, 4))
    dest = pl.Series("destination_ref", [None] * payees.size, dtype=pl.String)
    for code in tenant.providers:
        rows = np.flatnonzero(provider == code)
        if not rows.size:
            continue
        if code == 0:
            text = "acct_1" + encode(h1[rows], 15, "base62")
        elif code == 1:
            text = "fedwire:" + encode(h1[rows], 9, "digits") + ":****" + encode(h2[rows], 4, "digits")
        else:
            text = "0x" + encode(h1[rows], 16) + encode(h2[rows], 16) + encode(h3[rows], 8)
        dest = dest.scatter(rows, text)
    return provider.astype(np.int64), dest


def statement_hashes(
    tenant_id: str, party: pl.Series, period: str, amount: np.ndarray, currency: str
) -> pl.Series:
    """sha256 of the canonical JSON of {amount_cents, currency, party_id, period, tenant_id}."""
    text = (
        pl.DataFrame({"party": party, "amount": amount})
        .select(
            pl.lit('{"amount_cents":')
            + pl.col("amount").cast(pl.String)
            + f',"currency":"{currency}","party_id":"'
            + pl.col("party")
            + f'","period":"{period}","tenant_id":"{tenant_id}"}}'
        )
        .to_series()
    )
    return sha256_column(text)


@dataclass
class Instructions:
    """One instruction per paid payee (before duplicates), sorted by payout_key."""

    frame: pl.DataFrame  # contract columns (created_at as text) + provider (int) + created (epoch)

    @property
    def rows(self) -> int:
        return self.frame.height


def generate_instructions(
    tenant: Tenant, period_index: int, period: str, seed: int, s: Settlements
) -> Instructions:
    g = stream(seed, tenant.index, period_index, STREAM_INSTRUCTIONS)
    _, end = period_epochs(period)
    paid = s.released_by_payee > 0
    payees = s.payees[paid]
    amount = s.released_by_payee[paid]
    created = end + 2 * HOUR + g.integers(0, 4 * HOUR, payees.size)
    provider, destination = payee_attributes(tenant, seed, payees)
    party = pl.DataFrame({"payee": payees}).select(payee_id(tenant)).to_series()
    statement = statement_hashes(tenant.tenant_id, party, period, amount, tenant.currency)
    frame = (
        pl.DataFrame(
            {
                "party_id": party,
                "amount_cents": amount,
                "destination_ref": destination,
                "statement_hash": statement,
                "provider": provider,
                "created": created,
            }
        )
        .select(
            tenant_id=pl.lit(tenant.tenant_id),
            payout_key=pl.lit(f"{tenant.tenant_id}:party:")
            + pl.col("party_id")
            + f":period:{period}:statement:"
            + pl.col("statement_hash"),
            party_id=pl.col("party_id"),
            party_role=pl.lit("payee"),
            period=pl.lit(period),
            amount_cents=pl.col("amount_cents"),
            currency=pl.lit(tenant.currency),
            provider_id=pl.Series(PROVIDERS).gather(provider),
            destination_ref=pl.col("destination_ref"),
            statement_hash=pl.col("statement_hash"),
            created_at=iso("created"),
            provider=pl.col("provider"),
            created=pl.col("created"),
        )
        .sort("payout_key")
    )
    return Instructions(frame)


INSTRUCTION_COLUMNS = (
    "tenant_id",
    "payout_key",
    "party_id",
    "party_role",
    "period",
    "amount_cents",
    "currency",
    "provider_id",
    "destination_ref",
    "statement_hash",
    "created_at",
)
