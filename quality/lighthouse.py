"""`LighthouseProductionTracker.v1`: the launch's lighthouse customers, validated as the old tracker did
(statuses, required fields of active accounts, ISO dates in order, unique ids) and checked against the
warehouse, which the old one never did: an active account's `productionSettlementRef` must name a settlement
of *that account's tenant* that is resolved, paid, not in dispute, paid out (a confirmed payout operation on
its payee's instruction of the month) and reconciled (no open critical mismatch on that payout).

Every failure is a code (`ACCOUNT_CODES`, `SETTLEMENT_CODES`, `TRACKER_CODES`); the result is
`LighthouseTrackerCheck.v1`. The warehouse is read by `settlement_facts` (quality/lighthouse_warehouse.py);
`check_tracker` is a pure function of the tracker and those facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCHEMA = "LighthouseProductionTracker.v1"
STATUSES = ("targeting", "contracting", "integration_in_progress", "go_live_scheduled",
            "paid_production_settlement_confirmed", "production_active")  # fmt: skip
ACTIVE_STATUSES = ("paid_production_settlement_confirmed", "production_active")
REQUIRED_WHEN_ACTIVE = ("tenantId", "signedAt", "goLiveAt", "productionSettlementRef")
ACCOUNT_CODES = ("status_unknown", "signedAt_invalid_iso", "goLiveAt_invalid_iso", "goLiveAt_before_signedAt")
SETTLEMENT_CODES = {
    "settlement_ref_not_found": "no settlement with this id in the warehouse",
    "settlement_ref_other_tenant": "the settlement belongs to another tenant",
    "settlement_not_resolved": "the settlement is still locked in escrow",
    "settlement_not_paid": "nothing of the settlement was released to the payee (refunded)",
    "settlement_dispute_open": "the settlement has an open dispute",
    "settlement_not_paid_out": "no confirmed payout operation on the payee's instruction of the month",
    "settlement_open_critical_mismatch": "an open critical reconciliation mismatch on that payout",
}
TRACKER_CODES = ("tracker_schema_invalid", "duplicate_account_id", "not_enough_ready_active_accounts",
                 "warehouse_unavailable")  # fmt: skip


@dataclass(frozen=True)
class SettlementFacts:
    """One warehouse row of a settlement id (the id may exist for several tenants)."""

    tenant_id: str
    status: str  # locked | released | refunded
    is_resolved: bool
    released_amount_cents: int
    dispute_status: str  # none | open | closed
    resolved_period: str | None
    payout_keys: tuple[str, ...]  # the payee's instructions of the resolved month
    confirmed_payout_keys: tuple[str, ...]  # of those, the ones with a confirmed payout operation
    open_critical_mismatches: tuple[str, ...]  # triage keys of open critical mismatches on those payouts


FactsLookup = Callable[[str], list[SettlementFacts]]


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None  # an instant names its offset


def settlement_errors(tenant_id: str, facts: list[SettlementFacts]) -> list[str]:
    """The codes of what is wrong with a reference whose warehouse rows are `facts`, for `tenant_id`."""
    if not facts:
        return ["settlement_ref_not_found"]
    own = [row for row in facts if row.tenant_id == tenant_id]
    if not own:
        return ["settlement_ref_other_tenant"]
    row, errors = own[0], []
    if not row.is_resolved or row.status == "locked":
        return ["settlement_not_resolved"]
    if row.status != "released" or row.released_amount_cents <= 0:
        errors.append("settlement_not_paid")
    if row.dispute_status == "open":
        errors.append("settlement_dispute_open")
    if not row.confirmed_payout_keys:
        errors.append("settlement_not_paid_out")
    if row.open_critical_mismatches:
        errors.append("settlement_open_critical_mismatch")
    return errors


def _account(account: dict[str, Any], facts: FactsLookup | None) -> dict[str, Any]:
    status = account.get("status")
    errors: list[str] = [] if status in STATUSES else ["status_unknown"]
    active = status in ACTIVE_STATUSES
    missing = [name for name in REQUIRED_WHEN_ACTIVE if active and not account.get(name)]
    signed, live = _instant(account.get("signedAt")), _instant(account.get("goLiveAt"))
    if account.get("signedAt") and signed is None:
        errors.append("signedAt_invalid_iso")
    if account.get("goLiveAt") and live is None:
        errors.append("goLiveAt_invalid_iso")
    if signed and live and live < signed:
        errors.append("goLiveAt_before_signedAt")
    settlement = None
    reference, tenant_id = account.get("productionSettlementRef"), account.get("tenantId")
    if active and reference and tenant_id and facts is not None:
        settlement = settlement_errors(str(tenant_id), facts(str(reference)))
        errors.extend(settlement)
    ready = active and not missing and not errors and facts is not None
    return {"accountId": account.get("accountId"), "status": status, "tenantId": tenant_id,
            "productionSettlementRef": reference, "isActive": active, "ready": ready, "missing": missing,
            "errors": errors, "settlementChecked": settlement is not None}  # fmt: skip


def check_tracker(tracker: Any, facts: FactsLookup | None) -> dict[str, Any]:
    """`LighthouseTrackerCheck.v1`. `facts` None means the warehouse could not be read: no account is ready."""
    errors: list[str] = []
    if (
        not isinstance(tracker, dict)
        or tracker.get("schemaVersion") != SCHEMA
        or not isinstance(tracker.get("accounts"), list)
    ):
        tracker, errors = {"accounts": []}, ["tracker_schema_invalid"]
    accounts = [a for a in tracker["accounts"] if isinstance(a, dict)]
    if len(accounts) != len(tracker["accounts"]):
        errors.append("tracker_schema_invalid")
    ids = Counter(account.get("accountId") for account in accounts)
    if any(count > 1 for count in ids.values()):
        errors.append("duplicate_account_id")
    if facts is None:
        errors.append("warehouse_unavailable")
    results = [_account(account, facts) for account in accounts]
    required = tracker.get("requiredActiveAccounts", 3)
    required = required if isinstance(required, int) and required >= 0 else 3
    ready = sum(result["ready"] for result in results)
    if ready < required:
        errors.append("not_enough_ready_active_accounts")
    return {
        "schemaVersion": "LighthouseTrackerCheck.v1", "ok": not errors,
        "totalAccounts": len(results), "activeAccounts": sum(r["isActive"] for r in results),
        "readyActiveAccounts": ready, "requiredActiveAccounts": required, "eligibleStatuses": list(ACTIVE_STATUSES),
        "incompleteActiveAccounts": [r["accountId"] for r in results if r["isActive"] and not r["ready"]],
        "errors": sorted(set(errors)), "accounts": results,
    }  # fmt: skip


UPDATABLE = ("status", "tenantId", "signedAt", "goLiveAt", "productionSettlementRef", "owner", "notes")


def update_account(tracker: dict[str, Any], account_id: str, changes: dict[str, str], *, now: str) -> dict:
    """A copy of `tracker` with one existing account changed (as the old CLI: no new accounts; a known
    status; ISO instants) and `updatedAt` stamped. Raises ValueError with the code of what is refused."""
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise ValueError(f"field_not_updatable: {', '.join(unknown)}")
    if "status" in changes and changes["status"] not in STATUSES:
        raise ValueError(f"status_unknown: {changes['status']!r} (one of {', '.join(STATUSES)})")
    for name in ("signedAt", "goLiveAt"):
        if name in changes and _instant(changes[name]) is None:
            raise ValueError(f"{name}_invalid_iso: {changes[name]!r}")
    accounts = [dict(account) for account in tracker.get("accounts", [])]
    matches = [account for account in accounts if account.get("accountId") == account_id]
    if not matches:
        raise ValueError(f"account_not_found: {account_id!r} (update edits existing accounts only)")
    matches[0].update(changes)
    return {**tracker, "accounts": accounts, "updatedAt": now}
