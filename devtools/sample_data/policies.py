"""The demo's settlement policy registry and how its runs are assigned (issue 19).

Every tenant registers the three presets (version 1 of each preset's policy id): the balanced preset is
its active version, the high-autonomy preset its canary at 10 %, the manual-review preset a draft. A run
gets the canary when `int(sha256(f"{tenant_id}:{run_id}")[:8], 16) % 100 < 10` (the API's rule,
api/policies/service.py `bucket_of`), else the active version; its settlement carries that version's id,
number and hash. In the last period, the settlements numbered UNREGISTERED_SEQS of every tenant but the
first (whose month the README closes) carry a hash no registered version has: the period gate's
`policies.settlement_hashes_registered` lists them (manifest `policy_registry.unregistered_settlement_ids`).

`seed_registry` writes the registry into the operator API's database through the API's own service
functions (`settld api seed-policies`, run by `make demo` after `settld api migrate`).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import polars as pl

from api.policies.document import PRESETS, document_hash, validate_documents
from settld.core import canonical_hash

ACTIVE, CANARY, DRAFT = "balanced_guardrails_v1", "high_autonomy_low_risk_v1", "manual_review_high_risk_v1"
CANARY_PERCENT = 10
UNREGISTERED_SEQS = (7, 11)


@cache
def preset_ref(preset_id: str) -> tuple[str, int, str]:
    """(policy_id, 1, policy_hash) of a preset registered as version 1, hashed as the API hashes it."""
    preset = PRESETS[preset_id]
    policy, _ = validate_documents(preset["policy"], preset["verification_method"], policy_version=1)
    return preset["policy_id"], 1, document_hash(policy)


def policy_columns(tenant_id: str, run_id: pl.Expr, seq: pl.Expr, *, inject: bool) -> dict[str, pl.Expr]:
    """policy_id, policy_version, policy_hash of each run: canary below the percent, else active; with
    `inject`, the settlements numbered UNREGISTERED_SEQS get a hash that matches no version."""
    digest = (pl.lit(f"{tenant_id}:") + run_id).map_batches(_sha256, return_dtype=pl.String)
    bucket = digest.str.slice(0, 8).str.to_integer(base=16) % 100
    canary = bucket < CANARY_PERCENT
    (active_id, version, active_hash), (canary_id, _, canary_hash) = preset_ref(ACTIVE), preset_ref(CANARY)
    policy_hash = pl.when(canary).then(pl.lit(canary_hash)).otherwise(pl.lit(active_hash))
    if inject:
        unregistered = pl.lit("unregistered:") + run_id
        policy_hash = pl.when(seq.is_in(list(UNREGISTERED_SEQS))).then(
            unregistered.map_batches(_sha256, return_dtype=pl.String)
        ).otherwise(policy_hash)  # fmt: skip
    return {
        "policy_id": pl.when(canary).then(pl.lit(canary_id)).otherwise(pl.lit(active_id)),
        "policy_version": pl.lit(version, dtype=pl.Int64),
        "policy_hash": policy_hash,
    }


def _sha256(texts: pl.Series) -> pl.Series:
    from .kernel import sha256_column

    return sha256_column(texts)


def registry_manifest(tenant_ids: list[str], unregistered: list[str]) -> dict[str, Any]:
    """What the manifest records of the registry the demo seeds, and the settlements it does not back."""
    return {
        "versions": [
            dict(zip(("policy_id", "policy_version", "policy_hash"), preset_ref(p), strict=True))
            for p in (ACTIVE, CANARY, DRAFT)
        ],  # fmt: skip
        "rollout": {"active": ACTIVE, "canary": CANARY, "canary_percent": CANARY_PERCENT, "draft": DRAFT},
        "tenants": tenant_ids,
        "unregistered": len(unregistered),
        "unregistered_settlement_ids": sorted(unregistered),
        "registry_hash": canonical_hash([preset_ref(p) for p in (ACTIVE, CANARY, DRAFT)]),
    }


def seed_registry(database_url: str, tenant_ids: list[str], *, at: datetime) -> dict[str, int]:
    """Register the presets and set the rollout for each tenant (again: changes nothing). The tenants
    are not created in the API (as published settlements, the registry needs none): creating them would
    start their onboarding, which the demo's tenants never went through."""
    from api.audit.service import AuditContext
    from api.core.database import Database
    from api.policies import rollout

    counts = {"registered": 0, "moved": 0}
    database = Database(database_url)
    try:
        for tenant_id in tenant_ids:
            with database.transaction() as session:
                context = AuditContext(tenant_id, None, None)
                for preset_id in (ACTIVE, CANARY, DRAFT):  # the first registered becomes active
                    preset = PRESETS[preset_id]
                    registered = rollout.register(
                        session, tenant_id=tenant_id, context=context, now=at, policy_id=preset["policy_id"],
                        policy_version=1, policy=preset["policy"], verification_method=preset["verification_method"],
                        description=preset["description"], metadata={"preset_id": preset_id},
                    )  # fmt: skip
                    counts["registered"] += registered.changed
                for stage, preset_id, percent in (("canary", CANARY, CANARY_PERCENT), ("draft", DRAFT, None)):
                    policy_id, version, _ = preset_ref(preset_id)
                    moved = rollout.move(
                        session, tenant_id=tenant_id, stage=stage, rollout_percent=percent, context=context,
                        policy_ref={"policy_id": policy_id, "policy_version": version}, now=at,
                    )  # fmt: skip
                    counts["moved"] += moved.changed
    finally:
        database.dispose()
    return counts
