"""RFQs, bids and counter-offers. One transaction per request (the caller's), never committed here.

Lazy expiry: an open RFQ whose deadline has passed is expired. Reads show the effective status; a write
that loads the RFQ stores the move (`expire_due`) before it decides, so the record catches up with time
on the first write after the deadline (and `expire_overdue_rfqs` stores every due one at once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from api.audit.service import append_audit
from api.core.pagination import KeysetOrder, PageQuery, SortKey, paginate
from api.core.revisions import check_revision, flush_or_conflict
from api.marketplace import problems
from api.marketplace.listings import get_listing
from api.marketplace.models import Bid, Proposal, Rfq
from api.marketplace.schemas import (
    BidCreate,
    BidOut,
    CounterOfferCreate,
    CounterOfferPolicy,
    RfqCreate,
    RfqOut,
)
from api.marketplace.states import BidStatus, ListingStatus, PartyRole, RfqStatus
from api.tenants.dependencies import Principal
from settld.core import canonical_hash, canonical_json

RFQ_ORDER = KeysetOrder("marketplace_rfqs", (SortKey(Rfq.created_at, descending=True), SortKey(Rfq.rfq_id)))
BID_ORDER = KeysetOrder("marketplace_bids", (SortKey(Bid.amount_cents), SortKey(Bid.created_at),
                                              SortKey(Bid.bid_id)))  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    changed: bool
    record: Rfq | Bid


def effective_status(rfq: Rfq, now: datetime) -> RfqStatus:
    if rfq.status == RfqStatus.open and rfq.deadline_at <= now:
        return RfqStatus.expired
    return RfqStatus(rfq.status)


def _audit(session: Session, principal: Principal, action: str, target_type: str, target_id: str,
           now: datetime, **details: object) -> None:  # fmt: skip
    append_audit(session, context=principal.audit_context, action=action, target_type=target_type,
                 target_id=target_id, details=details, at=now)  # fmt: skip


def expire_due(session: Session, principal: Principal, rfq: Rfq, now: datetime) -> None:
    """Store the expiry of a locked RFQ whose deadline has passed (lazy expiry)."""
    if effective_status(rfq, now) == RfqStatus.expired and rfq.status == RfqStatus.open:
        loaded = rfq.revision
        rfq.status, rfq.expired_at, rfq.revision, rfq.updated_at = (
            RfqStatus.expired.value,
            now,
            loaded + 1,
            now,
        )
        flush_or_conflict(session, loaded, "RFQ")
        _audit(session, principal, "MARKETPLACE_RFQ_EXPIRED", "marketplace_rfq", rfq.rfq_id, now,
               revision=rfq.revision, deadline_at=rfq.deadline_at.isoformat())  # fmt: skip


def expire_overdue_rfqs(session: Session, *, now: datetime) -> int:
    """Store every due expiry (a system job: not audited per tenant, as publishes are not)."""
    due = and_(Rfq.status == RfqStatus.open.value, Rfq.deadline_at <= now)
    result = session.execute(update(Rfq).where(due).values(
        status=RfqStatus.expired.value, expired_at=now, updated_at=now, revision=Rfq.revision + 1,
    ).execution_options(synchronize_session=False))  # fmt: skip
    return result.rowcount or 0


def get_rfq(session: Session, *, tenant_id: str, rfq_id: str, lock: bool = False) -> Rfq:
    query = select(Rfq).where(Rfq.tenant_id == tenant_id, Rfq.rfq_id == rfq_id)
    rfq = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if rfq is None:
        raise problems.RfqNotFound(f"No RFQ {rfq_id!r} for this tenant.")
    return rfq


def open_rfq_for_write(session: Session, principal: Principal, rfq_id: str, now: datetime) -> Rfq:
    """The RFQ, row-locked (SQLite: the write's BEGIN IMMEDIATE), expired if due; 409 unless open."""
    rfq = get_rfq(session, tenant_id=principal.tenant_id, rfq_id=rfq_id, lock=True)
    expire_due(session, principal, rfq, now)
    if rfq.status != RfqStatus.open:
        raise problems.RfqNotOpen(f"RFQ {rfq_id!r} is {rfq.status}.", rfq_status=rfq.status)
    return rfq


def create_rfq(session: Session, *, principal: Principal, request: RfqCreate, now: datetime) -> Outcome:
    tenant_id = principal.tenant_id
    capability, listing_revision = request.capability, None
    if request.listing_id is not None:
        listing = get_listing(session, tenant_id=tenant_id, listing_id=request.listing_id)
        if listing.status != ListingStatus.active:
            raise problems.ListingNotActive(f"Listing {listing.listing_id!r} is {listing.status}.",
                                            listing_status=listing.status)  # fmt: skip
        if listing.currency != request.currency:
            raise problems.CurrencyMismatch("The RFQ's currency differs from the listing's price.",
                                            field="currency", expected=listing.currency, actual=request.currency)  # fmt: skip
        capability, listing_revision = capability or listing.capability, listing.revision
    if capability is None:
        raise problems.RfqTargetRequired()
    if request.deadline_at <= now:
        raise problems.DeadlineInPast(f"deadline_at {request.deadline_at.isoformat()} is not after now.")
    rfq_id = request.rfq_id
    if rfq_id is None:
        n = session.scalar(select(func.count()).select_from(Rfq).where(Rfq.tenant_id == tenant_id))
        rfq_id = "rfq_" + canonical_hash([tenant_id, request.poster_agent_id, capability, n])[:20]
    if session.get(Rfq, (tenant_id, rfq_id)) is not None:
        raise problems.RfqIdTaken(f"RFQ {rfq_id!r} exists.")
    policy = request.counter_offer_policy
    rfq = Rfq(
        tenant_id=tenant_id, rfq_id=rfq_id, listing_id=request.listing_id, listing_revision=listing_revision,
        capability=capability, title=request.title or capability, description=request.description,
        poster_agent_id=request.poster_agent_id, from_type=request.from_type, to_type=request.to_type,
        status=RfqStatus.open.value, budget_cents=request.budget_cents, currency=request.currency,
        deadline_at=request.deadline_at, counter_offer_max_rounds=policy.max_rounds,
        counter_offer_roles=canonical_json(sorted({role.value for role in policy.allowed_roles})),
        revision=1, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(rfq)
    flush_or_conflict(session, 0, "RFQ")
    _audit(session, principal, "MARKETPLACE_RFQ_POSTED", "marketplace_rfq", rfq_id, now, revision=1,
           budget_cents=rfq.budget_cents, currency=rfq.currency)  # fmt: skip
    return Outcome(True, rfq)


def list_rfqs(session: Session, *, tenant_id: str, status: str | None, capability: str | None,
              poster_agent_id: str | None, page: PageQuery, now: datetime) -> tuple[int, list[Rfq], str | None]:  # fmt: skip
    """Newest first; `status` filters on the effective status (an overdue open RFQ is expired)."""
    conditions = [Rfq.tenant_id == tenant_id]
    if capability is not None:
        conditions.append(Rfq.capability == capability)
    if poster_agent_id is not None:
        conditions.append(Rfq.poster_agent_id == poster_agent_id)
    if status is not None:
        overdue = and_(Rfq.status == RfqStatus.open.value, Rfq.deadline_at <= now)
        effective = case((overdue, RfqStatus.expired.value), else_=Rfq.status)
        conditions.append(effective == status)
    count = session.scalar(select(func.count()).select_from(Rfq).where(*conditions)) or 0
    rows, next_cursor = paginate(session, select(Rfq).where(*conditions), order=RFQ_ORDER, query=page)
    return count, [rfq for (rfq,) in rows], next_cursor


def _proposal(
    session: Session, bid: Bid, role: PartyRole, agent_id: str, note: str | None, now: datetime
) -> Proposal:
    terms = {"bid_id": bid.bid_id, "rfq_id": bid.rfq_id, "round": bid.negotiation_round, "proposer_role": role.value,
             "proposer_agent_id": agent_id, "amount_cents": bid.amount_cents, "currency": bid.currency,
             "eta_seconds": bid.eta_seconds, "note": note}  # fmt: skip
    proposal = Proposal(tenant_id=bid.tenant_id, **{k: v for k, v in terms.items() if k != "round"},
                        round=bid.negotiation_round, proposal_hash=canonical_hash(terms), created_at=now)  # fmt: skip
    session.add(proposal)
    return proposal


def place_bid(
    session: Session, *, principal: Principal, rfq_id: str, request: BidCreate, now: datetime
) -> Outcome:
    rfq = open_rfq_for_write(session, principal, rfq_id, now)
    for field in ("from_type", "to_type"):
        if getattr(request, field) != getattr(rfq, field):
            raise problems.DirectionMismatch(f"The bid's {field} differs from the RFQ's.", field=field,
                                             expected=getattr(rfq, field), actual=getattr(request, field))  # fmt: skip
    if request.currency != rfq.currency:
        raise problems.CurrencyMismatch("The bid's currency differs from the RFQ's.", field="currency",
                                        expected=rfq.currency, actual=request.currency)  # fmt: skip
    if request.bidder_agent_id == rfq.poster_agent_id:
        raise problems.BidderIsPoster()
    tenant_id = principal.tenant_id
    bid_id = request.bid_id
    if bid_id is None:
        n = session.scalar(
            select(func.count()).select_from(Bid).where(Bid.tenant_id == tenant_id, Bid.rfq_id == rfq_id)
        )
        bid_id = "bid_" + canonical_hash([tenant_id, rfq_id, request.bidder_agent_id, n])[:20]
    if session.get(Bid, (tenant_id, bid_id)) is not None:
        raise problems.BidIdTaken(f"Bid {bid_id!r} exists.")
    ref = request.policy_ref
    bid = Bid(
        tenant_id=tenant_id, bid_id=bid_id, rfq_id=rfq_id, bidder_agent_id=request.bidder_agent_id,
        from_type=request.from_type, to_type=request.to_type, status=BidStatus.pending.value,
        amount_cents=request.amount_cents, currency=request.currency, eta_seconds=request.eta_seconds,
        note=request.note, policy_id=ref.policy_id if ref else None,
        policy_version=ref.policy_version if ref else None, policy_hash=ref.policy_hash if ref else None,
        negotiation_round=1, revision=1, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(bid)
    flush_or_conflict(session, 0, "bid")
    _proposal(session, bid, PartyRole.bidder, bid.bidder_agent_id, bid.note, now)
    _audit(session, principal, "MARKETPLACE_BID_PLACED", "marketplace_bid", bid_id, now, rfq_id=rfq_id,
           amount_cents=bid.amount_cents, currency=bid.currency)  # fmt: skip
    return Outcome(True, bid)


def get_bid(session: Session, *, tenant_id: str, rfq_id: str, bid_id: str, lock: bool = False) -> Bid:
    query = select(Bid).where(Bid.tenant_id == tenant_id, Bid.bid_id == bid_id)
    bid = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if bid is None or bid.rfq_id != rfq_id:
        raise problems.BidNotFound(f"No bid {bid_id!r} on RFQ {rfq_id!r}.")
    return bid


def list_bids(session: Session, *, tenant_id: str, rfq_id: str, status: str | None, bidder_agent_id: str | None,
              page: PageQuery) -> tuple[int, list[Bid], str | None]:  # fmt: skip
    """Cheapest first, then oldest, then bid id."""
    get_rfq(session, tenant_id=tenant_id, rfq_id=rfq_id)
    conditions = [Bid.tenant_id == tenant_id, Bid.rfq_id == rfq_id]
    for column, value in ((Bid.status, status), (Bid.bidder_agent_id, bidder_agent_id)):
        if value is not None:
            conditions.append(column == value)
    count = session.scalar(select(func.count()).select_from(Bid).where(*conditions)) or 0
    rows, next_cursor = paginate(session, select(Bid).where(*conditions), order=BID_ORDER, query=page)
    return count, [bid for (bid,) in rows], next_cursor


def proposals(session: Session, bid: Bid) -> list[Proposal]:
    return list(session.scalars(select(Proposal).where(Proposal.tenant_id == bid.tenant_id,
                                                       Proposal.bid_id == bid.bid_id).order_by(Proposal.round)))  # fmt: skip


def counter_offer(session: Session, *, principal: Principal, rfq_id: str, bid_id: str,
                  request: CounterOfferCreate, now: datetime) -> Outcome:  # fmt: skip
    """A new round of the bid's terms, within the RFQ's policy: an allowed role, the party of that role,
    alternating with the last round's proposer, at most `max_rounds` counter-offers."""
    rfq = open_rfq_for_write(session, principal, rfq_id, now)
    bid = get_bid(session, tenant_id=principal.tenant_id, rfq_id=rfq_id, bid_id=bid_id, lock=True)
    check_revision(bid.revision, request.expected_revision, "bid")
    if bid.status != BidStatus.pending:
        raise problems.BidNotPending(f"Bid {bid_id!r} is {bid.status}.", bid_status=bid.status)
    policy = rfq_policy(rfq)
    party = rfq.poster_agent_id if request.proposer_role == PartyRole.poster else bid.bidder_agent_id
    if request.proposer_role not in policy.allowed_roles or request.proposer_agent_id != party:
        raise problems.CounterOfferNotAllowed(
            f"{request.proposer_agent_id!r} may not counter as {request.proposer_role.value} on this RFQ.",
            allowed_roles=[role.value for role in policy.allowed_roles])  # fmt: skip
    last = proposals(session, bid)[-1]
    if last.proposer_role == request.proposer_role:
        raise problems.CounterOfferOutOfTurn(last_proposer_role=last.proposer_role)
    if bid.negotiation_round - 1 >= policy.max_rounds:
        raise problems.CounterOfferLimitReached(max_rounds=policy.max_rounds)
    if request.currency is not None and request.currency != rfq.currency:
        raise problems.CurrencyMismatch("The counter-offer's currency differs from the RFQ's.", field="currency",
                                        expected=rfq.currency, actual=request.currency)  # fmt: skip
    loaded = bid.revision
    bid.amount_cents, bid.eta_seconds = request.amount_cents, request.eta_seconds or bid.eta_seconds
    bid.negotiation_round, bid.revision, bid.updated_at = bid.negotiation_round + 1, loaded + 1, now
    flush_or_conflict(session, loaded, "bid")
    proposal = _proposal(session, bid, request.proposer_role, request.proposer_agent_id, request.note, now)
    _audit(session, principal, "MARKETPLACE_BID_COUNTER_OFFERED", "marketplace_bid", bid_id, now, rfq_id=rfq_id,
           round=bid.negotiation_round, proposal_hash=proposal.proposal_hash)  # fmt: skip
    return Outcome(True, bid)


def rfq_policy(rfq: Rfq) -> CounterOfferPolicy:
    return CounterOfferPolicy(
        max_rounds=rfq.counter_offer_max_rounds, allowed_roles=json.loads(rfq.counter_offer_roles)
    )


def rfq_out(rfq: Rfq, now: datetime) -> RfqOut:
    fields = {name: getattr(rfq, name) for name in RfqOut.model_fields if hasattr(rfq, name)}
    return RfqOut(**{**fields, "status": effective_status(rfq, now)}, counter_offer_policy=rfq_policy(rfq))


def bid_out(bid: Bid) -> BidOut:
    fields = {name: getattr(bid, name) for name in BidOut.model_fields if hasattr(bid, name)}
    ref = None
    if bid.policy_id is not None:
        ref = {
            "policy_id": bid.policy_id,
            "policy_version": bid.policy_version,
            "policy_hash": bid.policy_hash,
        }
    return BidOut(**fields, policy_ref=ref)
