"""The period gate's settlement policy check (blocking): `policies.settlement_hashes_registered`.

Every settlement of the tenant locked or resolved in the period must reference a registered policy
version whose stored hash is the settlement's `policy_hash` (the rule is SQL: marts.
fct_settlement_policy_exceptions; tenants that have registered no version are not judged). The check
lists the offending settlements by id (the first DETAIL_EXAMPLES, the count always complete) with what is
wrong with each; any of them turns the gate red.
"""

from __future__ import annotations

from typing import Any

from settld.warehouse import Warehouse

CHECK_ID = "policies.settlement_hashes_registered"
DETAIL_EXAMPLES = 20


def unbacked_settlements(db: Warehouse, *, tenant_id: str, period: str) -> tuple[bool, dict[str, Any]]:
    """(ok, details) of the check for one tenant and period."""
    rows = db.query(
        "select settlement_id, policy_id, policy_version, policy_hash, registered_policy_hash, reference_status "
        "from marts.fct_settlement_policy_exceptions "
        "where tenant_id = ? and (locked_period = ? or resolved_period = ?) order by settlement_id",
        [tenant_id, period, period],
    )
    details = {
        "unbacked": len(rows),
        "settlementIds": [row["settlement_id"] for row in rows[:DETAIL_EXAMPLES]],
        "examples": [
            {
                "settlementId": row["settlement_id"],
                "policyId": row["policy_id"],
                "policyVersion": row["policy_version"],
                "policyHash": row["policy_hash"],
                "registeredPolicyHash": row["registered_policy_hash"],
                "reason": row["reference_status"],
            }
            for row in rows[:DETAIL_EXAMPLES]
        ],  # fmt: skip
    }
    return not rows, details
