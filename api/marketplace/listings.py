"""Capability listings: create, partial update, retire, read (any revision) and search.

Every change writes a new immutable row of `marketplace_listing_revisions` (the listing as it then stood)
and bumps the head's `revision`; a request that changes nothing writes nothing (`changed: false`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from api.audit.service import append_audit
from api.core.pagination import KeysetOrder, PageQuery, SortKey, paginate
from api.core.revisions import check_revision, flush_or_conflict
from api.marketplace import problems
from api.marketplace.models import Listing, ListingContent, ListingRevision
from api.marketplace.schemas import ListingCreate, ListingOut, ListingUpdate
from api.marketplace.states import LISTING, ListingStatus
from api.tenants.dependencies import Principal
from settld.core import canonical_hash, canonical_json

CONTENT_COLUMNS = tuple(name for name in ListingContent.__annotations__ if name != "content_hash")
LISTING_ORDER = KeysetOrder("marketplace_listings", (SortKey(Listing.updated_at, descending=True),
                                                      SortKey(Listing.listing_id)))  # fmt: skip


@dataclass(frozen=True)
class ListingOutcome:
    changed: bool
    listing: Listing


@dataclass(frozen=True)
class ListingFilters:
    q: str | None = None
    status: str | None = None
    capability: str | None = None
    seller_agent_id: str | None = None


def document(content: ListingContent) -> dict[str, Any]:
    """The listing's content as one document (what `content_hash` covers)."""
    price = {"mode": content.price_mode, "amount_cents": content.price_amount_cents,
             "min_amount_cents": content.price_min_amount_cents,
             "max_amount_cents": content.price_max_amount_cents, "currency": content.currency,
             "unit": content.price_unit}  # fmt: skip
    sla = None
    if content.sla_response_hours is not None:
        sla = {"response_hours": content.sla_response_hours, "completion_hours": content.sla_completion_hours}
    return {
        "capability": content.capability, "title": content.title, "description": content.description,
        "category": content.category, "seller_agent_id": content.seller_agent_id, "status": content.status,
        "tags": json.loads(content.tags), "price_model": price,
        "availability": json.loads(content.availability) if content.availability else None, "sla": sla,
    }  # fmt: skip


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Request fields (a create, or a merged update) as content columns."""
    price, sla = fields["price_model"], fields.get("sla")
    return {
        "capability": fields["capability"], "title": fields.get("title") or fields["capability"],
        "description": fields.get("description"), "category": fields.get("category"),
        "seller_agent_id": fields["seller_agent_id"], "status": str(fields["status"]),
        "tags": canonical_json(fields.get("tags") or []), "price_mode": str(price["mode"]),
        "price_amount_cents": price.get("amount_cents"), "price_min_amount_cents": price.get("min_amount_cents"),
        "price_max_amount_cents": price.get("max_amount_cents"), "currency": price["currency"],
        "price_unit": price.get("unit"),
        "availability": canonical_json(fields["availability"]) if fields.get("availability") else None,
        "sla_response_hours": sla["response_hours"] if sla else None,
        "sla_completion_hours": sla["completion_hours"] if sla else None,
    }  # fmt: skip


def _apply(listing: Listing, columns: dict[str, Any]) -> bool:
    changed = any(getattr(listing, name) != value for name, value in columns.items())
    for name, value in columns.items():
        setattr(listing, name, value)
    listing.content_hash = canonical_hash(document(listing))
    return changed


def _record(session: Session, principal: Principal, listing: Listing, action: str, now: datetime) -> None:
    session.add(ListingRevision(
        tenant_id=listing.tenant_id, listing_id=listing.listing_id, revision=listing.revision,
        actor_key_id=principal.key_id, created_at=now, content_hash=listing.content_hash,
        **{name: getattr(listing, name) for name in CONTENT_COLUMNS},
    ))  # fmt: skip
    append_audit(session, context=principal.audit_context, action=f"MARKETPLACE_LISTING_{action}",
                 target_type="marketplace_listing", target_id=listing.listing_id, at=now,
                 details={"revision": listing.revision, "status": listing.status,
                          "content_hash": listing.content_hash})  # fmt: skip


def get_listing(session: Session, *, tenant_id: str, listing_id: str, lock: bool = False) -> Listing:
    query = select(Listing).where(Listing.tenant_id == tenant_id, Listing.listing_id == listing_id)
    listing = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if listing is None:
        raise problems.ListingNotFound(f"No listing {listing_id!r} for this tenant.")
    return listing


def get_revision(session: Session, *, tenant_id: str, listing_id: str, revision: int) -> ListingRevision:
    listing = get_listing(session, tenant_id=tenant_id, listing_id=listing_id)
    row = session.get(ListingRevision, (tenant_id, listing_id, revision))
    if row is None:
        raise problems.ListingRevisionNotFound(f"The listing has revisions 1..{listing.revision}.",
                                               current_revision=listing.revision)  # fmt: skip
    return row


def list_revisions(session: Session, *, tenant_id: str, listing_id: str) -> list[ListingRevision]:
    get_listing(session, tenant_id=tenant_id, listing_id=listing_id)
    return list(session.scalars(select(ListingRevision).where(
        ListingRevision.tenant_id == tenant_id, ListingRevision.listing_id == listing_id,
    ).order_by(ListingRevision.revision)))  # fmt: skip


def create_listing(
    session: Session, *, principal: Principal, request: ListingCreate, now: datetime
) -> ListingOutcome:
    tenant_id = principal.tenant_id
    listing_id = request.listing_id
    if listing_id is None:
        n = session.scalar(select(func.count()).select_from(Listing).where(Listing.tenant_id == tenant_id))
        listing_id = (
            "caplst_" + canonical_hash([tenant_id, request.seller_agent_id, request.capability, n])[:20]
        )
    if session.get(Listing, (tenant_id, listing_id)) is not None:
        raise problems.ListingIdTaken(f"Listing {listing_id!r} exists; PATCH it to change it.")
    listing = Listing(tenant_id=tenant_id, listing_id=listing_id, revision=1, created_at=now, updated_at=now)
    _apply(listing, _columns(request.model_dump(mode="json")))
    session.add(listing)
    flush_or_conflict(session, 0, "listing")
    _record(session, principal, listing, "CREATED", now)
    return ListingOutcome(True, listing)


def update_listing(session: Session, *, principal: Principal, listing_id: str, request: ListingUpdate,
                   now: datetime) -> ListingOutcome:  # fmt: skip
    listing = get_listing(session, tenant_id=principal.tenant_id, listing_id=listing_id, lock=True)
    check_revision(listing.revision, request.expected_revision, "listing")
    if listing.status == ListingStatus.retired:
        raise problems.ListingRetired(f"Listing {listing_id!r} is retired.")
    merged = {**document(listing), **request.model_dump(mode="json", exclude_unset=True,
                                                        exclude={"expected_revision"})}  # fmt: skip
    if merged["status"] != listing.status:
        LISTING.assert_transition(ListingStatus(listing.status), ListingStatus(merged["status"]))
    return _change(session, principal, listing, _columns(merged), "UPDATED", now)


def retire_listing(session: Session, *, principal: Principal, listing_id: str, expected_revision: int | None,
                   now: datetime) -> ListingOutcome:  # fmt: skip
    listing = get_listing(session, tenant_id=principal.tenant_id, listing_id=listing_id, lock=True)
    check_revision(listing.revision, expected_revision, "listing")
    if listing.status == ListingStatus.retired:
        return ListingOutcome(False, listing)
    return _change(session, principal, listing, {"status": ListingStatus.retired.value}, "RETIRED", now)


def _change(session: Session, principal: Principal, listing: Listing, columns: dict[str, Any], action: str,
            now: datetime) -> ListingOutcome:  # fmt: skip
    loaded = listing.revision
    if not _apply(listing, columns):
        session.expire(listing)
        return ListingOutcome(False, listing)
    listing.revision, listing.updated_at = loaded + 1, now
    flush_or_conflict(session, loaded, "listing")
    _record(session, principal, listing, action, now)
    return ListingOutcome(True, listing)


def search_listings(session: Session, *, tenant_id: str, filters: ListingFilters, page: PageQuery
                    ) -> tuple[int, list[Listing], str | None]:  # fmt: skip
    """`q`: case-insensitive substring of id, capability, title, description, category or a tag."""
    conditions = [Listing.tenant_id == tenant_id]
    for column, value in ((Listing.status, filters.status), (Listing.capability, filters.capability),
                          (Listing.seller_agent_id, filters.seller_agent_id)):  # fmt: skip
        if value is not None:
            conditions.append(column == value)
    if filters.q:
        needle = "%" + filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        fields = (Listing.listing_id, Listing.capability, Listing.title, Listing.description,
                  Listing.category, cast(Listing.tags, String))  # fmt: skip
        conditions.append(or_(*(func.lower(f).like(needle, escape="\\") for f in fields)))
    count = session.scalar(select(func.count()).select_from(Listing).where(*conditions)) or 0
    rows, next_cursor = paginate(session, select(Listing).where(*conditions), order=LISTING_ORDER, query=page)
    return count, [listing for (listing,) in rows], next_cursor


def listing_out(row: Listing | ListingRevision, *, created_at: datetime | None = None) -> ListingOut:
    content = document(row)
    return ListingOut(
        listing_id=row.listing_id, tenant_id=row.tenant_id, revision=row.revision,
        **{k: v for k, v in content.items() if k in ListingOut.model_fields}, content_hash=row.content_hash,
        created_at=created_at or row.created_at, updated_at=getattr(row, "updated_at", row.created_at),
    )  # fmt: skip
