"""Money-rail operations (numpy columns from `rails`) as contract rows, and the rows of injected.csv."""

from __future__ import annotations

import numpy as np
import polars as pl

from ingestion.contracts import OPERATION_STATES

from .kernel import Instructions, statement_hashes
from .rails import (
    INJECTION_TYPES,
    KIND_COLLECTION,
    KIND_NULL_KEY,
    KIND_UNKNOWN_KEY,
    REASONS,
    TIME_COLUMNS,
    Rails,
)
from .tenants import CURRENCIES, PROVIDERS, Tenant, encode, iso, zfill


def operations_frame(
    tenant: Tenant, period: str, instructions: Instructions, ops: dict[str, np.ndarray], provider: int
) -> pl.DataFrame:
    """The operations of a chunk at one provider as contract rows (plus `kind`), sorted by operation_id."""
    keep = ops["provider"] == provider
    ops = {k: v[keep] for k, v in ops.items()}
    keys = instructions.frame["payout_key"]
    n = ops["instr"].size
    has_instr = ops["instr"] >= 0
    payout_key = (
        keys.gather(np.where(has_instr, ops["instr"], 0))
        if keys.len()
        else pl.Series([None] * n, dtype=pl.String)
    )
    payout_key = pl.select(pl.when(pl.lit(pl.Series(has_instr))).then(pl.lit(payout_key))).to_series()
    unknown = np.flatnonzero(ops["kind"] == KIND_UNKNOWN_KEY)
    if unknown.size:
        party = pl.select(
            pl.lit(f"agt_{tenant.slug}_x")
            + pl.lit(pl.Series(ops["seq"][unknown])).cast(pl.String).str.zfill(7)
        ).to_series()
        statement = statement_hashes(tenant.tenant_id, party, period, ops["amount"][unknown], tenant.currency)
        bogus = pl.select(
            pl.lit(f"{tenant.tenant_id}:party:")
            + pl.lit(party)
            + f":period:{period}:statement:"
            + pl.lit(statement)
        ).to_series()
        payout_key = payout_key.scatter(unknown, bogus)
    ref = ops["ref"].astype(np.uint64)
    ref_text = pl.Series("ref_text", [None] * n, dtype=pl.String)
    for code, (prefix, width, alphabet) in enumerate(
        (("tr_", 24, "base62"), ("fw_", 18, "digits"), ("0x", 64, "hex"))
    ):
        rows = np.flatnonzero((ops["provider"] == code) & (ops["sub"] >= 0))
        if rows.size:
            ref_text = ref_text.scatter(rows, prefix + encode(ref[rows], width, alphabet))
    frame = pl.DataFrame({k: v for k, v in ops.items() if k != "ref"}).with_columns(
        key=payout_key, ref_text=ref_text, updated=pl.max_horizontal(*TIME_COLUMNS)
    )
    kind = pl.col("kind")
    suffix = (
        pl.when(pl.col("attempt") > 1)
        .then(pl.lit(":r") + pl.col("attempt").cast(pl.String))
        .otherwise(pl.lit(""))
    )
    tid = tenant.tenant_id
    return frame.select(
        provider_id=pl.lit(pl.Series(PROVIDERS)).gather(pl.col("provider")),
        operation_id=pl.when(kind <= KIND_UNKNOWN_KEY)
        .then(pl.lit("mop_") + pl.col("key") + suffix)
        .when(kind == KIND_NULL_KEY)
        .then(pl.lit(f"mop_{tid}:unlinked:{period}:") + zfill("seq", 6))
        .otherwise(pl.lit(f"mop_{tid}:collection:{period}:") + zfill("seq", 6)),
        tenant_id=pl.lit(tid),
        direction=pl.when(pl.col("direction") == 1).then(pl.lit("collection")).otherwise(pl.lit("payout")),
        payout_key=pl.col("key"),
        amount_cents=pl.col("amount"),
        currency=pl.lit(pl.Series(CURRENCIES)).gather(pl.col("currency")),
        state=pl.lit(pl.Series(OPERATION_STATES)).gather(pl.col("state")),
        reason_code=pl.when(pl.col("reason") >= 0).then(
            pl.lit(pl.Series(REASONS)).gather(pl.col("reason").clip(0))
        ),
        provider_ref=pl.col("ref_text"),
        initiated_at=iso("ini"),
        submitted_at=iso("sub"),
        confirmed_at=iso("conf"),
        failed_at=iso("fail"),
        cancelled_at=iso("canc"),
        reversed_at=iso("rev"),
        updated_at=iso("updated"),
        kind=kind,
        provider=pl.col("provider"),
    ).sort("operation_id")


def operation_injections(operations: pl.DataFrame) -> pl.DataFrame:
    """injected.csv columns of the unexpected and collection operations in an operations frame."""
    kind = pl.col("kind")
    return operations.filter(kind >= KIND_UNKNOWN_KEY).select(
        provider_id=pl.col("provider_id"),
        mismatch_type=pl.when(kind == KIND_COLLECTION)
        .then(pl.lit("decoy_collection"))
        .otherwise(pl.lit("unexpected_operation")),
        mismatch_key=pl.coalesce("payout_key", "operation_id"),
        note=pl.when(kind == KIND_COLLECTION)
        .then(pl.lit("confirmed collection operation, payout_key null"))
        .when(kind == KIND_NULL_KEY)
        .then(pl.lit("confirmed payout operation with a null payout_key"))
        .otherwise(pl.lit("confirmed payout operation whose payout_key matches no instruction")),
    )


def injected_frame(
    tenant: Tenant, period: str, instructions: Instructions, rails: Rails, from_operations: list[pl.DataFrame]
) -> pl.DataFrame:
    """Rows of injected.csv for one chunk, sorted by (provider_id, mismatch_type, mismatch_key)."""
    f = instructions.frame
    idx = rails.injected["instr"].to_numpy()
    from_instructions = pl.DataFrame(
        {
            "provider_id": f["provider_id"].gather(idx),
            "mismatch_type": pl.Series(INJECTION_TYPES).gather(rails.injected["type"].to_numpy()),
            "mismatch_key": f["payout_key"].gather(idx),
            "note": rails.injected["note"],
        }
    )
    return (
        pl.concat([from_instructions, *from_operations])
        .select(
            tenant_id=pl.lit(tenant.tenant_id),
            period=pl.lit(period),
            provider_id=pl.col("provider_id"),
            mismatch_type=pl.col("mismatch_type"),
            mismatch_key=pl.col("mismatch_key"),
            note=pl.col("note"),
        )
        .sort("provider_id", "mismatch_type", "mismatch_key")
    )
