"""The accept: one transaction that assigns the RFQ, accepts one bid, rejects the other pending bids, pins
the run's policy, meters the verified run and writes the agreement the settlement kernel must then lock.

Serialised per RFQ: the RFQ row is read `FOR UPDATE` on Postgres, and on SQLite every write begins with
`BEGIN IMMEDIATE` (api/core/database.py), as triage's writes are; the ORM's version column adds
`WHERE revision = <loaded>` to the UPDATE besides. Of two concurrent accepts, the second finds the RFQ
assigned and is 409 RFQ_NOT_OPEN. Replaying the same Idempotency-Key returns the first answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit.service import append_audit
from api.billing.limits import meter_billable_work
from api.core.revisions import check_revision, flush_or_conflict
from api.marketplace import problems
from api.marketplace.models import Agreement, Bid, Rfq
from api.marketplace.schemas import AcceptRequest, AgreementOut
from api.marketplace.service import get_bid, open_rfq_for_write
from api.marketplace.states import BID, RFQ, BidStatus, PolicySource, RfqStatus
from api.policies.service import find_policy_version, resolve_policy_for_run
from api.tenants.dependencies import Principal
from settld.core import canonical_hash, canonical_json


@dataclass(frozen=True)
class Accepted:
    rfq: Rfq
    bid: Bid
    rejected_bid_ids: list[str]
    agreement: Agreement


def _pinned_policy(session: Session, principal: Principal, bid: Bid, run_id: str,
                   now: datetime) -> tuple[dict[str, Any], PolicySource]:  # fmt: skip
    """The bid's explicit reference when it names one (it must be registered, with the same hash), else
    the policy the tenant's rollout gives the run (recorded with the run by the policy registry)."""
    if bid.policy_id is None:
        assignment = resolve_policy_for_run(session, tenant_id=principal.tenant_id, run_id=run_id, now=now,
                                            actor=principal.key_id)  # fmt: skip
        return dict(assignment.policy_ref), PolicySource.resolved
    version = find_policy_version(session, tenant_id=principal.tenant_id, policy_id=bid.policy_id,
                                  policy_version=bid.policy_version)  # fmt: skip
    registered = None if version is None else version.policy_hash
    if registered != bid.policy_hash:
        raise problems.PolicyRefMismatch(
            f"The bid pins {bid.policy_id} v{bid.policy_version}, which is "
            + ("not registered." if version is None else "registered with another hash."),
            policy_id=bid.policy_id, policy_version=bid.policy_version,
            expected_policy_hash=registered, actual_policy_hash=bid.policy_hash,
        )  # fmt: skip
    ref = {"policy_id": bid.policy_id, "policy_version": bid.policy_version, "policy_hash": bid.policy_hash}
    return ref, PolicySource.bid


def offer_terms(rfq: Rfq, bid: Bid) -> dict[str, Any]:
    """What the offer hash covers: the parties and the bid's current terms (its newest round)."""
    return {
        "rfq_id": rfq.rfq_id, "bid_id": bid.bid_id, "listing_id": rfq.listing_id,
        "listing_revision": rfq.listing_revision, "capability": rfq.capability,
        "payer_agent_id": rfq.poster_agent_id, "payee_agent_id": bid.bidder_agent_id,
        "from_type": bid.from_type, "to_type": bid.to_type, "amount_cents": bid.amount_cents,
        "currency": bid.currency, "eta_seconds": bid.eta_seconds, "negotiation_round": bid.negotiation_round,
    }  # fmt: skip


def accept_bid(session: Session, *, principal: Principal, rfq_id: str, request: AcceptRequest,
               now: datetime) -> Accepted:  # fmt: skip
    tenant_id = principal.tenant_id
    rfq = open_rfq_for_write(session, principal, rfq_id, now)  # the row lock; 409 RFQ_NOT_OPEN
    check_revision(rfq.revision, request.expected_revision, "RFQ")
    bid = get_bid(session, tenant_id=tenant_id, rfq_id=rfq_id, bid_id=request.bid_id, lock=True)
    if bid.status != BidStatus.pending:
        raise problems.BidNotPending(f"Bid {bid.bid_id!r} is {bid.status}.", bid_status=bid.status)
    acceptor = request.accepted_by_agent_id or rfq.poster_agent_id
    if acceptor != rfq.poster_agent_id:
        raise problems.AcceptorNotPoster(f"{acceptor!r} did not post RFQ {rfq_id!r}.")
    run_id = request.run_id or "run_mkt_" + canonical_hash([tenant_id, rfq_id, bid.bid_id])[:24]
    settlement_id = "setl_" + run_id  # the kernel's settlement id for a run
    agreement_id = "agr_" + canonical_hash([tenant_id, rfq_id, bid.bid_id, run_id])[:24]
    policy_ref, source = _pinned_policy(session, principal, bid, run_id, now)
    meter_billable_work(session, tenant_id=tenant_id, usage_type="verified_runs", quantity=1, source_ref=run_id,
                        now=now, actor_key_id=principal.key_id, request_id=principal.request_id)  # fmt: skip

    RFQ.assert_transition(RfqStatus(rfq.status), RfqStatus.assigned)
    loaded = rfq.revision
    rfq.status, rfq.accepted_bid_id, rfq.accepted_at = RfqStatus.assigned.value, bid.bid_id, now
    rfq.agreement_id, rfq.run_id, rfq.settlement_id = agreement_id, run_id, settlement_id
    rfq.revision, rfq.updated_at = loaded + 1, now
    flush_or_conflict(session, loaded, "RFQ")
    rejected = []
    others = session.scalars(select(Bid).where(Bid.tenant_id == tenant_id, Bid.rfq_id == rfq_id,
                                               Bid.status == BidStatus.pending.value).with_for_update())  # fmt: skip
    for other in sorted(others, key=lambda b: b.bid_id):
        target = BidStatus.accepted if other.bid_id == bid.bid_id else BidStatus.rejected
        BID.assert_transition(BidStatus(other.status), target)
        other.status, other.revision, other.updated_at = target.value, other.revision + 1, now
        if target == BidStatus.accepted:
            other.accepted_at = now
        else:
            other.rejected_at = now
            rejected.append(other.bid_id)
    flush_or_conflict(session, loaded, "RFQ")

    offer = offer_terms(rfq, bid)
    offer_hash = canonical_hash(offer)
    acceptance = {"offer_hash": offer_hash, "agreement_id": agreement_id, "accepted_by_agent_id": acceptor,
                  "accepted_at": now.isoformat(), "run_id": run_id, "settlement_id": settlement_id,
                  "dispute_window_days": request.dispute_window_days, "policy_ref": policy_ref}  # fmt: skip
    agreement = Agreement(
        tenant_id=tenant_id, agreement_id=agreement_id, rfq_id=rfq_id, bid_id=bid.bid_id,
        listing_id=rfq.listing_id, listing_revision=rfq.listing_revision, run_id=run_id,
        settlement_id=settlement_id, payer_agent_id=rfq.poster_agent_id, payee_agent_id=bid.bidder_agent_id,
        accepted_by_agent_id=acceptor, amount_cents=bid.amount_cents, currency=bid.currency,
        dispute_window_days=request.dispute_window_days, policy_id=policy_ref["policy_id"],
        policy_version=policy_ref["policy_version"], policy_hash=policy_ref["policy_hash"],
        policy_source=source.value, offer_hash=offer_hash, acceptance_hash=canonical_hash(acceptance),
        offer=canonical_json(offer), accepted_at=now, revision=1,
    )  # fmt: skip
    session.add(agreement)
    flush_or_conflict(session, loaded, "RFQ")
    append_audit(session, context=principal.audit_context, action="MARKETPLACE_RFQ_ACCEPTED",
                 target_type="marketplace_rfq", target_id=rfq_id, at=now,
                 details={"bid_id": bid.bid_id, "rejected_bid_ids": rejected, "agreement_id": agreement_id,
                          "run_id": run_id, "offer_hash": offer_hash, "acceptance_hash": agreement.acceptance_hash,
                          "policy_ref": policy_ref, "policy_source": source.value})  # fmt: skip
    return Accepted(rfq, bid, rejected, agreement)


def get_agreement(session: Session, *, tenant_id: str, agreement_id: str) -> Agreement:
    agreement = session.get(Agreement, (tenant_id, agreement_id))
    if agreement is None:
        raise problems.AgreementNotFound(f"No agreement {agreement_id!r} for this tenant.")
    return agreement


def agreement_out(agreement: Agreement) -> AgreementOut:
    fields = {
        name: getattr(agreement, name) for name in AgreementOut.model_fields if hasattr(agreement, name)
    }
    ref = {"policy_id": agreement.policy_id, "policy_version": agreement.policy_version,
           "policy_hash": agreement.policy_hash}  # fmt: skip
    return AgreementOut(**{**fields, "offer": json.loads(agreement.offer)}, policy_ref=ref)
