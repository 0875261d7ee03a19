"""HTTP layer of the marketplace (`/v1/marketplace/...`): listings, RFQs, bids, counter-offers, accept.

Reads need finance_read, finance_write or ops_read; writes finance_write or ops_write. Every write takes
Idempotency-Key and If-Match (or `expected_revision`); another tenant's record is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.billing.problems import PlanLimitExceeded
from api.core.dependencies import NowDep, SessionDep, WriteSessionDep
from api.core.errors import problem_responses
from api.core.pagination import CursorInvalid
from api.core.revisions import IfMatch, expected_revision
from api.core.states import TransitionIllegal
from api.idempotency.dependencies import idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.marketplace import accept, listings, problems, service
from api.marketplace.queries import BidPage, BidQuery, ListingPage, ListingQuery, RfqPage, RfqQuery
from api.marketplace.schemas import (
    ID_PATTERN,
    AcceptRequest,
    AcceptResponse,
    AgreementResponse,
    BidCreate,
    BidResponse,
    CounterOfferCreate,
    ListingCreate,
    ListingOut,
    ListingResponse,
    ListingUpdate,
    ProposalOut,
    RfqCreate,
    RfqResponse,
)
from api.policies.problems import ActivePolicyNotSet
from api.tenants.dependencies import Principal, require_scopes
from api.tenants.models import Scope
from api.tenants.problems import AUTH_PROBLEMS

router = APIRouter(prefix="/v1/marketplace", tags=["marketplace"])
ReadDep = Annotated[
    Principal, Depends(require_scopes(Scope.finance_read, Scope.finance_write, Scope.ops_read))
]
WriteDep = Annotated[Principal, Depends(require_scopes(Scope.finance_write, Scope.ops_write))]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]
WRITE_PROBLEMS = (*AUTH_PROBLEMS, *IDEMPOTENCY_PROBLEMS, problems.IfMatchInvalid, problems.RevisionAmbiguous,
                  problems.RevisionConflict, TransitionIllegal)  # fmt: skip
BID_PROBLEMS = (*WRITE_PROBLEMS, problems.RfqNotFound, problems.RfqNotOpen, problems.CurrencyMismatch)


def _listing(outcome: listings.ListingOutcome) -> ListingResponse:
    return ListingResponse(changed=outcome.changed, listing=listings.listing_out(outcome.listing))


def _bid(session: SessionDep, outcome: service.Outcome) -> BidResponse:
    bid = outcome.record
    chain = [ProposalOut.model_validate(p, from_attributes=True) for p in service.proposals(session, bid)]
    return BidResponse(changed=outcome.changed, bid=service.bid_out(bid), proposals=chain)


@router.post("/listings", status_code=201, response_model=ListingResponse,
             responses=problem_responses(*WRITE_PROBLEMS, problems.ListingIdTaken))  # fmt: skip
@idempotent(status_code=201)
def post_listing(
    body: ListingCreate, session: WriteSessionDep, principal: WriteDep, now: NowDep
) -> ListingResponse:
    """Create a capability listing (revision 1)."""
    return _listing(listings.create_listing(session, principal=principal, request=body, now=now))


@router.get(
    "/listings", response_model=ListingPage, responses=problem_responses(*AUTH_PROBLEMS, CursorInvalid)
)
def get_listings(
    session: SessionDep, principal: ReadDep, query: Annotated[ListingQuery, Query()]
) -> ListingPage:
    """Search: `q` over id, capability, title, description, category and tags; newest change first."""
    filters = listings.ListingFilters(q=query.q, status=query.status, capability=query.capability,
                                      seller_agent_id=query.seller_agent_id)  # fmt: skip
    count, rows, cursor = listings.search_listings(
        session, tenant_id=principal.tenant_id, filters=filters, page=query
    )
    return ListingPage(count=count, limit=query.limit, offset=query.offset, next_cursor=cursor,
                       items=[listings.listing_out(row) for row in rows])  # fmt: skip


@router.get("/listings/{listing_id}", response_model=ListingResponse,
            responses=problem_responses(*AUTH_PROBLEMS, problems.ListingNotFound,
                                        problems.ListingRevisionNotFound))  # fmt: skip
def get_listing(session: SessionDep, principal: ReadDep, listing_id: IdPath,
                revision: Annotated[int | None, Query(ge=1, le=10**9)] = None) -> ListingResponse:  # fmt: skip
    """The listing as it stands, or as it stood at `revision`."""
    if revision is None:
        row = listings.get_listing(session, tenant_id=principal.tenant_id, listing_id=listing_id)
    else:
        row = listings.get_revision(
            session, tenant_id=principal.tenant_id, listing_id=listing_id, revision=revision
        )
    return ListingResponse(changed=False, listing=listings.listing_out(row))


@router.get("/listings/{listing_id}/revisions", response_model=list[ListingOut],
            responses=problem_responses(*AUTH_PROBLEMS, problems.ListingNotFound))  # fmt: skip
def get_listing_revisions(session: SessionDep, principal: ReadDep, listing_id: IdPath) -> list[ListingOut]:
    """Every revision, oldest first; each as it stood (immutable)."""
    rows = listings.list_revisions(session, tenant_id=principal.tenant_id, listing_id=listing_id)
    return [listings.listing_out(row) for row in rows]


@router.patch("/listings/{listing_id}", response_model=ListingResponse,
              responses=problem_responses(*WRITE_PROBLEMS, problems.ListingNotFound, problems.ListingRetired))  # fmt: skip
@idempotent
def patch_listing(body: ListingUpdate, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                  listing_id: IdPath, if_match: IfMatch = None) -> ListingResponse:  # fmt: skip
    """Partial update: omitted fields keep their values; a change is a new revision."""
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    return _listing(listings.update_listing(session, principal=principal, listing_id=listing_id, request=body,
                                            now=now))  # fmt: skip


@router.delete("/listings/{listing_id}", response_model=ListingResponse,
               responses=problem_responses(*WRITE_PROBLEMS, problems.ListingNotFound))  # fmt: skip
@idempotent
def delete_listing(session: WriteSessionDep, principal: WriteDep, now: NowDep, listing_id: IdPath,
                   if_match: IfMatch = None) -> ListingResponse:  # fmt: skip
    """Retire the listing (a new revision; its history stays readable). Retiring it again changes nothing."""
    return _listing(listings.retire_listing(session, principal=principal, listing_id=listing_id,
                                            expected_revision=expected_revision(None, if_match), now=now))  # fmt: skip


@router.post("/rfqs", status_code=201, response_model=RfqResponse,
             responses=problem_responses(*WRITE_PROBLEMS, problems.RfqIdTaken, problems.ListingNotFound,
                                         problems.ListingNotActive, problems.CurrencyMismatch,
                                         problems.RfqTargetRequired, problems.DeadlineInPast))  # fmt: skip
@idempotent(status_code=201)
def post_rfq(body: RfqCreate, session: WriteSessionDep, principal: WriteDep, now: NowDep) -> RfqResponse:
    """Post an RFQ on a listing (its revision is pinned) or a capability."""
    outcome = service.create_rfq(session, principal=principal, request=body, now=now)
    return RfqResponse(changed=True, rfq=service.rfq_out(outcome.record, now))


@router.get("/rfqs", response_model=RfqPage, responses=problem_responses(*AUTH_PROBLEMS, CursorInvalid))
def get_rfqs(
    session: SessionDep, principal: ReadDep, now: NowDep, query: Annotated[RfqQuery, Query()]
) -> RfqPage:
    """Newest first; `status` is the effective status (an open RFQ past its deadline is expired)."""
    count, rows, cursor = service.list_rfqs(session, tenant_id=principal.tenant_id, status=query.status,
                                            capability=query.capability, poster_agent_id=query.poster_agent_id,
                                            page=query, now=now)  # fmt: skip
    return RfqPage(count=count, limit=query.limit, offset=query.offset, next_cursor=cursor,
                   items=[service.rfq_out(rfq, now) for rfq in rows])  # fmt: skip


@router.get("/rfqs/{rfq_id}", response_model=RfqResponse,
            responses=problem_responses(*AUTH_PROBLEMS, problems.RfqNotFound))  # fmt: skip
def get_rfq(session: SessionDep, principal: ReadDep, now: NowDep, rfq_id: IdPath) -> RfqResponse:
    rfq = service.get_rfq(session, tenant_id=principal.tenant_id, rfq_id=rfq_id)
    return RfqResponse(changed=False, rfq=service.rfq_out(rfq, now))


@router.post("/rfqs/{rfq_id}/bids", status_code=201, response_model=BidResponse,
             responses=problem_responses(*BID_PROBLEMS, problems.DirectionMismatch, problems.BidIdTaken,
                                         problems.BidderIsPoster))  # fmt: skip
@idempotent(status_code=201)
def post_bid(body: BidCreate, session: WriteSessionDep, principal: WriteDep, now: NowDep,
             rfq_id: IdPath) -> BidResponse:  # fmt: skip
    """Bid on an open RFQ: currency, from_type and to_type must be the RFQ's (409 naming the field)."""
    return _bid(
        session, service.place_bid(session, principal=principal, rfq_id=rfq_id, request=body, now=now)
    )


@router.get("/rfqs/{rfq_id}/bids", response_model=BidPage,
            responses=problem_responses(*AUTH_PROBLEMS, CursorInvalid, problems.RfqNotFound))  # fmt: skip
def get_bids(
    session: SessionDep, principal: ReadDep, rfq_id: IdPath, query: Annotated[BidQuery, Query()]
) -> BidPage:
    """Cheapest first, then oldest, then bid id."""
    count, rows, cursor = service.list_bids(session, tenant_id=principal.tenant_id, rfq_id=rfq_id,
                                            status=query.status, bidder_agent_id=query.bidder_agent_id, page=query)  # fmt: skip
    return BidPage(count=count, limit=query.limit, offset=query.offset, next_cursor=cursor,
                   items=[service.bid_out(bid) for bid in rows])  # fmt: skip


@router.get("/rfqs/{rfq_id}/bids/{bid_id}/counter-offers", response_model=BidResponse,
            responses=problem_responses(*AUTH_PROBLEMS, problems.BidNotFound))  # fmt: skip
def get_counter_offers(
    session: SessionDep, principal: ReadDep, rfq_id: IdPath, bid_id: IdPath
) -> BidResponse:
    """The bid and its proposal chain (round 1 is the bid as placed)."""
    bid = service.get_bid(session, tenant_id=principal.tenant_id, rfq_id=rfq_id, bid_id=bid_id)
    return _bid(session, service.Outcome(False, bid))


@router.post("/rfqs/{rfq_id}/bids/{bid_id}/counter-offers", status_code=201, response_model=BidResponse,
             responses=problem_responses(*BID_PROBLEMS, problems.BidNotFound, problems.BidNotPending,
                                         problems.CounterOfferNotAllowed, problems.CounterOfferOutOfTurn,
                                         problems.CounterOfferLimitReached))  # fmt: skip
@idempotent(status_code=201)
def post_counter_offer(body: CounterOfferCreate, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                       rfq_id: IdPath, bid_id: IdPath, if_match: IfMatch = None) -> BidResponse:  # fmt: skip
    """A new round of the bid's terms, within the RFQ's counter-offer policy."""
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    return _bid(session, service.counter_offer(session, principal=principal, rfq_id=rfq_id, bid_id=bid_id,
                                               request=body, now=now))  # fmt: skip


@router.post("/rfqs/{rfq_id}/accept", response_model=AcceptResponse,
             responses=problem_responses(*WRITE_PROBLEMS, problems.RfqNotFound, problems.RfqNotOpen,
                                         problems.BidNotFound, problems.BidNotPending, problems.AcceptorNotPoster,
                                         problems.PolicyRefMismatch, ActivePolicyNotSet, PlanLimitExceeded))  # fmt: skip
@idempotent
def post_accept(body: AcceptRequest, session: WriteSessionDep, principal: WriteDep, now: NowDep, rfq_id: IdPath,
                if_match: IfMatch = None) -> AcceptResponse:  # fmt: skip
    """Accept a pending bid in one transaction: the RFQ is assigned, the bid accepted, every other pending
    bid rejected, the run's policy pinned (the bid's registered reference, else the tenant's rollout), and
    the agreement written with the run and settlement ids the settlement kernel must lock."""
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    done = accept.accept_bid(session, principal=principal, rfq_id=rfq_id, request=body, now=now)
    return AcceptResponse(changed=True, rfq=service.rfq_out(done.rfq, now), accepted_bid=service.bid_out(done.bid),
                          rejected_bid_ids=done.rejected_bid_ids, agreement=accept.agreement_out(done.agreement))  # fmt: skip


@router.get("/agreements/{agreement_id}", response_model=AgreementResponse,
            responses=problem_responses(*AUTH_PROBLEMS, problems.AgreementNotFound))  # fmt: skip
def get_agreement(session: SessionDep, principal: ReadDep, agreement_id: IdPath) -> AgreementResponse:
    agreement = accept.get_agreement(session, tenant_id=principal.tenant_id, agreement_id=agreement_id)
    return AgreementResponse(agreement=accept.agreement_out(agreement))
