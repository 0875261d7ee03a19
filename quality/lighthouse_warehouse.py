"""What the warehouse says about a settlement id, for the lighthouse tracker's check (quality/lighthouse.py).

Portable SQL over the marts (DuckDB and Postgres alike): the settlement rows of that id
(`marts.fct_settlements`, any tenant), its payee's payout instructions of the month it resolved in
(`staging.stg_settlement_kernel__payout_instructions`: the payee is the instruction's party), the confirmed
payout operations on those keys (`marts.fct_money_rail_operations`) and the open critical mismatches on
them (`marts.fct_reconciliation_mismatch_queue`: effective severity critical, not handled).
"""

from __future__ import annotations

from quality.lighthouse import SettlementFacts
from settld.warehouse import Warehouse

SETTLEMENTS = """
select tenant_id, status, is_resolved, released_amount_cents as released,
       dispute_status, resolved_period, payee_agent_id
from marts.fct_settlements where settlement_id = ? order by tenant_id
"""
PAYOUT_KEYS = """
select distinct payout_key from staging.stg_settlement_kernel__payout_instructions
where tenant_id = ? and party_id = ? and period = ? order by payout_key
"""
CONFIRMED = """
select distinct payout_key from marts.fct_money_rail_operations
where tenant_id = ? and direction = 'payout' and state = 'confirmed' and payout_key = ?
"""
OPEN_CRITICAL = """
select triage_key from marts.fct_reconciliation_mismatch_queue
where tenant_id = ? and mismatch_key = ? and severity = 'critical' and not is_handled order by triage_key
"""


def settlement_facts(db: Warehouse, settlement_id: str) -> list[SettlementFacts]:
    facts = []
    for row in db.query(SETTLEMENTS, [settlement_id]):
        keys: list[str] = []
        if row["resolved_period"]:
            keys = [r["payout_key"] for r in db.query(PAYOUT_KEYS, [row["tenant_id"], row["payee_agent_id"],
                                                                   row["resolved_period"]])]  # fmt: skip
        confirmed = [key for key in keys if db.query(CONFIRMED, [row["tenant_id"], key])]
        critical = [r["triage_key"] for key in keys for r in db.query(OPEN_CRITICAL, [row["tenant_id"], key])]
        facts.append(SettlementFacts(
            tenant_id=row["tenant_id"], status=row["status"], is_resolved=bool(row["is_resolved"]),
            released_amount_cents=int(row["released"] or 0), dispute_status=row["dispute_status"],
            resolved_period=row["resolved_period"], payout_keys=tuple(keys),
            confirmed_payout_keys=tuple(confirmed), open_critical_mismatches=tuple(critical),
        ))  # fmt: skip
    return facts
