"""The marketplace workspace: listings (the API's search, filters and cursor) with their revisions, RFQs
with their bids sorted by amount (the API's own bid order: cheapest, then oldest, then id), the accept
behind a confirmation step, and the agreement it writes.

Reads and the accept call `api.marketplace.listings`, `.service` and `.accept` with the caller's
`Principal`; the accept is sent with the RFQ revision the confirmation showed (the JSON route's If-Match)
and the form's Idempotency-Key, so a concurrent change is a message and a second click acts once.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.console.session import CallerDep, CsrfRefused, csrf_ok
from api.console.tables import pager, params_of, validated
from api.console.views import claim_form, page, problem_page, redirect
from api.core.dependencies import NowDep, SessionDep, WriteSessionDep
from api.core.errors import Problem
from api.marketplace import accept, listings, problems, service
from api.marketplace.queries import BidQuery, ListingQuery, RfqQuery
from api.marketplace.schemas import ID_PATTERN, AcceptRequest
from api.marketplace.states import BidStatus, ListingStatus, RfqStatus
from api.tenants.dependencies import require_scopes
from api.tenants.models import Scope

router = APIRouter(prefix="/console/marketplace", include_in_schema=False)
BASE = "/console/marketplace"
READ_SCOPES = (Scope.finance_read, Scope.finance_write, Scope.ops_read)
WRITE_SCOPES = (Scope.finance_write, Scope.ops_write)
PAGE_SIZE = 20
LISTING_FILTERS = ("q", "status", "capability", "seller_agent_id", "limit")
RFQ_FILTERS = ("status", "capability", "poster_agent_id", "limit")


def _checked_id(value: str, missing: type[Problem], what: str) -> str:
    if not re.match(ID_PATTERN, value):
        raise missing(f"No {what} {value[:40]!r} for this tenant.")
    return value


@router.get("")
def listings_page(request: Request, session: SessionDep, caller: CallerDep) -> Response:
    kept = params_of(request, LISTING_FILTERS)
    try:
        require_scopes(*READ_SCOPES)(caller.principal)
        query = validated(ListingQuery, {"limit": PAGE_SIZE, **kept, **params_of(request, ("cursor",))})
        filters = listings.ListingFilters(q=query.q, status=query.status, capability=query.capability,
                                          seller_agent_id=query.seller_agent_id)  # fmt: skip
        count, rows, next_cursor = listings.search_listings(session, tenant_id=caller.principal.tenant_id,
                                                            filters=filters, page=query)  # fmt: skip
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    return page(request, "marketplace.html", caller.console, caller=caller, tab="listings", count=count,
                listings=[listings.listing_out(row) for row in rows], filters=kept,
                statuses=[s.value for s in ListingStatus],
                pager=pager(request, BASE, kept, query.cursor, next_cursor))  # fmt: skip


@router.get("/listings/{listing_id}")
def listing_page(request: Request, session: SessionDep, caller: CallerDep, listing_id: str) -> Response:
    tenant_id = caller.principal.tenant_id
    try:
        require_scopes(*READ_SCOPES)(caller.principal)
        _checked_id(listing_id, problems.ListingNotFound, "listing")
        head = listings.get_listing(session, tenant_id=tenant_id, listing_id=listing_id)
        revisions = listings.list_revisions(session, tenant_id=tenant_id, listing_id=listing_id)
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    return page(request, "marketplace_listing.html", caller.console, caller=caller,
                listing=listings.listing_out(head),
                revisions=[listings.listing_out(row) for row in reversed(revisions)])  # fmt: skip


@router.get("/rfqs")
def rfqs_page(request: Request, session: SessionDep, caller: CallerDep, now: NowDep) -> Response:
    kept = params_of(request, RFQ_FILTERS)
    try:
        require_scopes(*READ_SCOPES)(caller.principal)
        query = validated(RfqQuery, {"limit": PAGE_SIZE, **kept, **params_of(request, ("cursor",))})
        count, rows, next_cursor = service.list_rfqs(
            session, tenant_id=caller.principal.tenant_id, status=query.status, capability=query.capability,
            poster_agent_id=query.poster_agent_id, page=query, now=now)  # fmt: skip
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    return page(request, "marketplace.html", caller.console, caller=caller, tab="rfqs", count=count,
                rfqs=[service.rfq_out(rfq, now) for rfq in rows], filters=kept,
                statuses=[s.value for s in RfqStatus],
                pager=pager(request, f"{BASE}/rfqs", kept, query.cursor, next_cursor))  # fmt: skip


def _rfq_and_bids(request: Request, session: SessionDep, caller: CallerDep, now: NowDep, rfq_id: str) -> dict:
    tenant_id = caller.principal.tenant_id
    require_scopes(*READ_SCOPES)(caller.principal)
    _checked_id(rfq_id, problems.RfqNotFound, "RFQ")
    rfq = service.rfq_out(service.get_rfq(session, tenant_id=tenant_id, rfq_id=rfq_id), now)
    kept = params_of(request, ("status", "bidder_agent_id", "limit"))
    query = validated(BidQuery, {"limit": PAGE_SIZE, **kept, **params_of(request, ("cursor",))})
    count, rows, next_cursor = service.list_bids(session, tenant_id=tenant_id, rfq_id=rfq_id, status=query.status,
                                                 bidder_agent_id=query.bidder_agent_id, page=query)  # fmt: skip
    return {"rfq": rfq, "bid_count": count, "bids": [service.bid_out(bid) for bid in rows], "filters": kept,
            "bid_statuses": [s.value for s in BidStatus],
            "pager": pager(request, f"{BASE}/rfqs/{rfq_id}", kept, query.cursor, next_cursor)}  # fmt: skip


@router.get("/rfqs/{rfq_id}")
def rfq_page(request: Request, session: SessionDep, caller: CallerDep, now: NowDep, rfq_id: str) -> Response:
    try:
        context = _rfq_and_bids(request, session, caller, now, rfq_id)
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    may_accept = caller.may(*WRITE_SCOPES) and context["rfq"].status == RfqStatus.open
    return page(request, "marketplace_rfq.html", caller.console, caller=caller, may_accept=may_accept,
                **context)  # fmt: skip


@router.get("/rfqs/{rfq_id}/accept")
def confirm_accept(
    request: Request, session: SessionDep, caller: CallerDep, now: NowDep, rfq_id: str
) -> Response:
    """The confirmation step: the bid's terms, what the accept does, and the form that does it."""
    try:
        require_scopes(*WRITE_SCOPES)(caller.principal)
        context = _rfq_and_bids(request, session, caller, now, rfq_id)
        bid_id = _checked_id(request.query_params.get("bid_id", ""), problems.BidNotFound, "bid")
        bid = service.bid_out(service.get_bid(session, tenant_id=caller.principal.tenant_id, rfq_id=rfq_id,
                                              bid_id=bid_id))  # fmt: skip
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    others = [b for b in context["bids"] if b.status == BidStatus.pending and b.bid_id != bid.bid_id]
    return page(request, "marketplace_accept.html", caller.console, caller=caller, rfq=context["rfq"], bid=bid,
                others=others, idempotency_key=secrets.token_urlsafe(18))  # fmt: skip


@router.post("/rfqs/{rfq_id}/accept")
def accept_bid(
    request: Request, session: WriteSessionDep, caller: CallerDep, now: NowDep, rfq_id: str,
    csrf: Annotated[str, Form()] = "", idempotency_key: Annotated[str, Form()] = "",
    revision: Annotated[int, Form()] = 0, bid_id: Annotated[str, Form()] = "",
    dispute_window_days: Annotated[str, Form()] = "3",
) -> Response:  # fmt: skip
    """Accept through `api.marketplace.accept.accept_bid` with the RFQ revision the confirmation showed."""
    console = caller.console
    if not csrf_ok(console, csrf):
        return problem_page(request, CsrfRefused(), console, caller=caller)
    back = f"{BASE}/rfqs/{rfq_id}" if len(rfq_id) <= 128 else f"{BASE}/rfqs"
    try:
        require_scopes(*WRITE_SCOPES)(caller.principal)
        _checked_id(rfq_id, problems.RfqNotFound, "RFQ")
        fields = {"bid_id": bid_id, "dispute_window_days": dispute_window_days, "expected_revision": revision}
        body = validated(AcceptRequest, fields)
        if claim_form(request, session, caller, f"{BASE}/rfqs/{rfq_id}/accept", idempotency_key, fields):
            done = accept.accept_bid(
                session, principal=caller.principal, rfq_id=rfq_id, request=body, now=now
            )
            console.say("ok", f"Bid {done.bid.bid_id} accepted; {len(done.rejected_bid_ids)} other bid(s) "
                              f"rejected; agreement {done.agreement.agreement_id} written.")  # fmt: skip
            back = f"{BASE}/agreements/{done.agreement.agreement_id}"
        else:
            console.say("ok", "This form was already sent; nothing changed twice.")
    except Problem as problem:
        session.rollback()
        if problem.status in (403, 404) and not isinstance(problem, problems.BidNotFound):
            return problem_page(request, problem, console, caller=caller)
        conflict = problem.status == 409
        console.say("conflict" if conflict else "error", f"{problem.code}: {problem.detail}"
                    + (" The RFQ changed since you confirmed; review it and try again." if conflict else ""))  # fmt: skip
    return redirect(request, back, console)


@router.get("/agreements/{agreement_id}")
def agreement_page(request: Request, session: SessionDep, caller: CallerDep, agreement_id: str) -> Response:
    try:
        require_scopes(*READ_SCOPES)(caller.principal)
        _checked_id(agreement_id, problems.AgreementNotFound, "agreement")
        agreement = accept.get_agreement(
            session, tenant_id=caller.principal.tenant_id, agreement_id=agreement_id
        )
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    return page(request, "marketplace_agreement.html", caller.console, caller=caller,
                agreement=accept.agreement_out(agreement))  # fmt: skip
