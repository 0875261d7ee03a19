"""A marketplace history consistent with a generated landing zone's settlements, written into the operator
API's database (the marketplace lives there, not in the landing zone), with injected agreement mismatches.

`seed_marketplace(landing_dir, api_database_url)` reads the landing zone's settlement files (those its
manifest lists; rows the contracts would quarantine are skipped) and, per tenant, turns every
`EVERY`-th settlement into a traded RFQ: a listing revision, an RFQ on it, two or three bids (the
cheapest accepted at the settlement's amount) and the agreement pinning the run, its settlement id and
its policy. So the agreement-to-settlement reconciliation finds nothing for them, except what is
injected on purpose and listed in `<landing>/marketplace_manifest.json`:
  agreement_missing_settlement  an accepted agreement whose run has no settlement (accepted 10 days
                                before the export cut-off, well past the grace period)
  agreement_amount_mismatch     an agreement whose amount drifted from its settlement's (+DRIFT_CENTS)
Besides, a few RFQs get no bid and a few only bids, for the funnel. Deterministic: ids are hashes, times
derive from the settlements, no wall clock and no randomness.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from api.core.database import Database
from api.marketplace.models import Agreement, Bid, Listing, ListingRevision, Proposal, Rfq
from ingestion.contracts import DATASETS
from ingestion.readers import LandingFile, read_landing_file
from settld.core import canonical_hash, canonical_json

EVERY = 7  # one settlement in EVERY becomes a traded RFQ
INJECTED_PER_TYPE = 2  # per type, over the whole landing zone (the first tenants get them)
DRIFT_CENTS = 150
STATUSES = ("locked", "released", "refunded")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def _when(text: Any) -> datetime | None:
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _valid(row: dict[str, Any]) -> bool:
    return (all(row.get(k) for k in ("tenant_id", "settlement_id", "run_id", "policy_id", "policy_hash"))
            and row.get("status") in STATUSES and CURRENCY.match(str(row.get("currency") or "")) is not None
            and isinstance(row.get("amount_cents"), int) and row["amount_cents"] > 0
            and _when(row.get("locked_at")) is not None and _when(row.get("updated_at")) is not None)  # fmt: skip


def _parsed(raw: dict[str, Any]) -> dict[str, Any] | None:
    """A row as the contracts would type it: JSON lines come as their raw text, CSV fields as strings."""
    if "_raw_payload" in raw:
        try:
            raw = json.loads(raw["_raw_payload"])
        except (TypeError, ValueError):
            return None
        if not isinstance(raw, dict):
            return None
    row = dict(raw)
    for name in ("amount_cents", "policy_version"):
        if isinstance(row.get(name), str) and row[name].isdigit():
            row[name] = int(row[name])
    return row


def kernel_settlements(landing_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest valid row of every settlement in the files the manifest lists, by (tenant, settlement)."""
    manifest = json.loads((landing_dir / "manifest.json").read_text())
    dataset = DATASETS["settlements"]
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in manifest["datasets"]["settlements"]["files"]:
        landing = LandingFile("settlements", landing_dir / entry["path"], entry["path"], entry["format"])
        for raw in read_landing_file(landing, dataset).to_pylist():
            row = _parsed(raw)
            if row is None or not _valid(row):
                continue
            key = (row["tenant_id"], row["settlement_id"])
            if key not in latest or _when(row["updated_at"]) > _when(latest[key]["updated_at"]):
                latest[key] = row
    return latest


def _trade(tenant: str, n: int, settlement: dict[str, Any] | None, *, run_id: str, amount: int, currency: str,
           accepted_at: datetime, policy: tuple[str, int, str]) -> list[Any]:  # fmt: skip
    """The rows of one traded RFQ: the RFQ, two bids (the cheaper accepted), their proposals, the agreement."""
    listing_id = f"caplst_{tenant}_sample"
    rfq_id = f"rfq_{tenant}_{n:05d}"
    posted = accepted_at - timedelta(hours=6)
    poster = settlement["payer_agent_id"] if settlement else f"agt_{tenant}_buyer"
    payee = settlement["payee_agent_id"] if settlement else f"agt_{tenant}_seller"
    rows: list[Any] = [Rfq(
        tenant_id=tenant, rfq_id=rfq_id, listing_id=listing_id, listing_revision=1 + n % 2,
        capability="translation", title="Sample task", poster_agent_id=poster, from_type="agent",
        to_type="agent", status="assigned", budget_cents=amount + amount // 5, currency=currency,
        deadline_at=accepted_at + timedelta(days=3), counter_offer_max_rounds=3,
        counter_offer_roles=canonical_json(["bidder", "poster"]), accepted_bid_id=f"bid_{rfq_id}_win",
        agreement_id=f"agr_{rfq_id}", run_id=run_id, settlement_id="setl_" + run_id, accepted_at=accepted_at,
        revision=2, created_at=posted, updated_at=accepted_at,
    )]  # fmt: skip
    for suffix, bidder, bid_amount, status, minutes in (("win", payee, amount, "accepted", 30),
                                                        ("lose", f"agt_{tenant}_rival", amount + 500, "rejected", 90)):  # fmt: skip
        bid_id = f"bid_{rfq_id}_{suffix}"
        created = posted + timedelta(minutes=minutes)
        rows.append(Bid(
            tenant_id=tenant, bid_id=bid_id, rfq_id=rfq_id, bidder_agent_id=bidder, from_type="agent",
            to_type="agent", status=status, amount_cents=bid_amount, currency=currency, eta_seconds=86_400,
            negotiation_round=1, accepted_at=accepted_at if status == "accepted" else None,
            rejected_at=accepted_at if status == "rejected" else None, revision=2, created_at=created,
            updated_at=accepted_at,
        ))  # fmt: skip
        terms = {"bid_id": bid_id, "round": 1, "amount_cents": bid_amount, "currency": currency}
        rows.append(Proposal(tenant_id=tenant, bid_id=bid_id, round=1, rfq_id=rfq_id, proposer_role="bidder",
                             proposer_agent_id=bidder, amount_cents=bid_amount, currency=currency,
                             eta_seconds=86_400, proposal_hash=canonical_hash(terms), created_at=created))  # fmt: skip
    offer = {"rfq_id": rfq_id, "bid_id": f"bid_{rfq_id}_win", "amount_cents": amount, "currency": currency,
             "payer_agent_id": poster, "payee_agent_id": payee}  # fmt: skip
    rows.append(Agreement(
        tenant_id=tenant, agreement_id=f"agr_{rfq_id}", rfq_id=rfq_id, bid_id=f"bid_{rfq_id}_win",
        listing_id=listing_id, listing_revision=1 + n % 2, run_id=run_id, settlement_id="setl_" + run_id,
        payer_agent_id=poster, payee_agent_id=payee, accepted_by_agent_id=poster, amount_cents=amount,
        currency=currency, dispute_window_days=3, policy_id=policy[0], policy_version=policy[1],
        policy_hash=policy[2], policy_source="resolved", offer_hash=canonical_hash(offer),
        acceptance_hash=canonical_hash([offer, accepted_at.isoformat()]), offer=canonical_json(offer),
        accepted_at=accepted_at, revision=1,
    ))  # fmt: skip
    return rows


def _listing(tenant: str, revision: int, at: datetime) -> list[Any]:
    content = dict(capability="translation", title="Sample translation", description=None, category="language",
                   seller_agent_id=f"agt_{tenant}_seller", status="active", tags=canonical_json(["sample"]),
                   price_mode="quote", price_amount_cents=None, price_min_amount_cents=1000,
                   price_max_amount_cents=500_000, currency="USD", price_unit=None, availability=None,
                   sla_response_hours=4 * revision, sla_completion_hours=96)  # fmt: skip
    content["content_hash"] = canonical_hash([tenant, revision, content])
    rows: list[Any] = [ListingRevision(tenant_id=tenant, listing_id=f"caplst_{tenant}_sample", revision=revision,
                                       actor_key_id=None, created_at=at, **content)]  # fmt: skip
    if revision == 2:
        rows.append(Listing(tenant_id=tenant, listing_id=f"caplst_{tenant}_sample", revision=2, created_at=at,
                            updated_at=at, **content))  # fmt: skip
    return rows


def marketplace_history(settlements: dict[tuple[str, str], dict[str, Any]],
                        as_of: datetime) -> tuple[list[Any], list[dict[str, str]]]:  # fmt: skip
    """The rows to write and the injected mismatches (tenant, period, type, key), both in a fixed order."""
    rows: list[Any] = []
    injected: list[dict[str, str]] = []
    by_tenant: dict[str, list[dict[str, Any]]] = {}
    for (tenant, _), row in sorted(settlements.items()):
        by_tenant.setdefault(tenant, []).append(row)
    drifts = missing = 0
    for tenant, kernel in by_tenant.items():
        chosen = kernel[::EVERY]
        first = min(_when(row["locked_at"]) for row in chosen)
        rows += _listing(tenant, 1, first - timedelta(days=30)) + _listing(
            tenant, 2, first - timedelta(days=15)
        )
        for n, row in enumerate(chosen):
            amount, accepted_at = row["amount_cents"], _when(row["locked_at"]) - timedelta(hours=1)
            policy = (row["policy_id"], int(row["policy_version"]), row["policy_hash"])
            drifted = drifts < INJECTED_PER_TYPE and n == 1
            if drifted:
                drifts += 1
                amount += DRIFT_CENTS
                injected.append({"tenant_id": tenant, "period": accepted_at.strftime("%Y-%m"),
                                 "mismatch_type": "agreement_amount_mismatch", "mismatch_key": f"agr_rfq_{tenant}_{n:05d}"})  # fmt: skip
            rows += _trade(tenant, n, row, run_id=row["run_id"], amount=amount, currency=row["currency"],
                           accepted_at=accepted_at, policy=policy)  # fmt: skip
        base = len(chosen)
        if missing < INJECTED_PER_TYPE:
            missing += 1
            accepted_at = as_of - timedelta(days=10)
            template = chosen[0]
            policy = (template["policy_id"], int(template["policy_version"]), template["policy_hash"])
            rows += _trade(tenant, base, None, run_id=f"run_{tenant}_mkt_unsettled", amount=4200,
                           currency=template["currency"], accepted_at=accepted_at, policy=policy)  # fmt: skip
            injected.append({"tenant_id": tenant, "period": accepted_at.strftime("%Y-%m"),
                             "mismatch_type": "agreement_missing_settlement", "mismatch_key": f"agr_rfq_{tenant}_{base:05d}"})  # fmt: skip
        for k, bids in ((base + 1, 0), (base + 2, 1)):  # open RFQs for the funnel: none and one bid
            posted = as_of - timedelta(days=5)
            rfq_id = f"rfq_{tenant}_{k:05d}"
            rows.append(Rfq(tenant_id=tenant, rfq_id=rfq_id, listing_id=None, listing_revision=None,
                            capability="translation", title="Sample open task", poster_agent_id=f"agt_{tenant}_buyer",
                            from_type="agent", to_type="agent", status="open", budget_cents=10_000, currency="USD",
                            deadline_at=posted + timedelta(days=30), counter_offer_max_rounds=3,
                            counter_offer_roles=canonical_json(["bidder", "poster"]), revision=1,
                            created_at=posted, updated_at=posted))  # fmt: skip
            if bids:
                rows.append(Bid(tenant_id=tenant, bid_id=f"bid_{rfq_id}_1", rfq_id=rfq_id,
                                bidder_agent_id=f"agt_{tenant}_rival", from_type="agent", to_type="agent",
                                status="pending", amount_cents=9_000, currency="USD", eta_seconds=3600,
                                negotiation_round=1, revision=1, created_at=posted + timedelta(hours=2),
                                updated_at=posted + timedelta(hours=2)))  # fmt: skip
    return rows, injected


def seed_marketplace(landing_dir: Path, api_database_url: str) -> dict[str, Any]:
    """Write the history into the API's database (at head) and `marketplace_manifest.json`; return the latter."""
    manifest = json.loads((landing_dir / "manifest.json").read_text())
    as_of = _when(manifest["as_of"])
    rows, injected = marketplace_history(kernel_settlements(landing_dir), as_of)
    database = Database(api_database_url)
    try:
        with database.transaction() as session:
            session.add_all(rows)
    finally:
        database.dispose()
    counts: dict[str, int] = {}
    for row in rows:
        counts[type(row).__tablename__] = counts.get(type(row).__tablename__, 0) + 1
    result = {"as_of": manifest["as_of"], "rows": dict(sorted(counts.items())), "injected": injected}
    (landing_dir / "marketplace_manifest.json").write_text(canonical_json(result) + "\n", encoding="utf-8")
    return result
