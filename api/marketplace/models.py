"""Listings with their immutable revisions, RFQs, bids with their proposal rounds, and agreements.

Plain tables on purpose: dbt reads them as sources (on DuckDB by attaching the SQLite file). Lists and
small documents (tags, availability, counter-offer roles) are canonical JSON text, portable to both engines.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from api.core.database import Base, UTCDateTime
from api.core.states import check_constraint
from api.marketplace.states import BidStatus, ListingStatus, PartyRole, PolicySource, PriceMode, RfqStatus

ID = 128


class ListingContent:
    """A listing's content, the same columns on the listing (its head) and on each revision."""

    capability: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(240))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(128))
    seller_agent_id: Mapped[str] = mapped_column(String(ID))
    status: Mapped[str] = mapped_column(String(16))
    tags: Mapped[str] = mapped_column(Text)  # canonical JSON list
    price_mode: Mapped[str] = mapped_column(String(16))
    price_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    price_min_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    price_max_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    price_unit: Mapped[str | None] = mapped_column(String(64))
    availability: Mapped[str | None] = mapped_column(Text)  # canonical JSON {timezone, windows}
    sla_response_hours: Mapped[int | None] = mapped_column(Integer)
    sla_completion_hours: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))  # canonical hash of the listing's document


class Listing(ListingContent, Base):
    """The head of a listing: its current content and revision (+1 per change)."""

    __tablename__ = "marketplace_listings"

    @declared_attr.directive
    def __table_args__(cls) -> tuple:  # noqa: N805
        return (
            Index("ix_marketplace_listings_updated", "tenant_id", "updated_at", "listing_id"),
            check_constraint("status", ListingStatus, table="marketplace_listings"),
            check_constraint("price_mode", PriceMode, table="marketplace_listings"),
        )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    listing_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}


class ListingRevision(ListingContent, Base):
    """Append-only: the listing as it stood after each change, keyed (tenant, listing, revision)."""

    __tablename__ = "marketplace_listing_revisions"

    @declared_attr.directive
    def __table_args__(cls) -> tuple:  # noqa: N805
        return (
            check_constraint("status", ListingStatus, table="marketplace_listing_revisions"),
            check_constraint("price_mode", PriceMode, table="marketplace_listing_revisions"),
        )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    listing_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_key_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Rfq(Base):
    __tablename__ = "marketplace_rfqs"
    __table_args__ = (
        Index("ix_marketplace_rfqs_created", "tenant_id", "created_at", "rfq_id"),
        check_constraint("status", RfqStatus, table="marketplace_rfqs"),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rfq_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    listing_id: Mapped[str | None] = mapped_column(String(ID))
    listing_revision: Mapped[int | None] = mapped_column(Integer)
    capability: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(240))
    description: Mapped[str | None] = mapped_column(Text)
    poster_agent_id: Mapped[str] = mapped_column(String(ID))
    from_type: Mapped[str] = mapped_column(String(32))
    to_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    counter_offer_max_rounds: Mapped[int] = mapped_column(Integer)
    counter_offer_roles: Mapped[str] = mapped_column(Text)  # canonical JSON list of PartyRole
    accepted_bid_id: Mapped[str | None] = mapped_column(String(ID))
    agreement_id: Mapped[str | None] = mapped_column(String(ID))
    run_id: Mapped[str | None] = mapped_column(String(ID))
    settlement_id: Mapped[str | None] = mapped_column(String(ID))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}


class Bid(Base):
    """A bid and its current terms (those of its newest proposal round)."""

    __tablename__ = "marketplace_bids"
    __table_args__ = (
        Index("ix_marketplace_bids_rfq", "tenant_id", "rfq_id", "status"),
        check_constraint("status", BidStatus, table="marketplace_bids"),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bid_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    rfq_id: Mapped[str] = mapped_column(String(ID))
    bidder_agent_id: Mapped[str] = mapped_column(String(ID))
    from_type: Mapped[str] = mapped_column(String(32))
    to_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    eta_seconds: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    policy_id: Mapped[str | None] = mapped_column(String(ID))
    policy_version: Mapped[int | None] = mapped_column(Integer)
    policy_hash: Mapped[str | None] = mapped_column(String(128))
    negotiation_round: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}


class Proposal(Base):
    """Append-only: round 1 is the bid as placed, each counter-offer the next round."""

    __tablename__ = "marketplace_bid_proposals"
    __table_args__ = (check_constraint("proposer_role", PartyRole, table="marketplace_bid_proposals"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bid_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    rfq_id: Mapped[str] = mapped_column(String(ID))
    proposer_role: Mapped[str] = mapped_column(String(16))
    proposer_agent_id: Mapped[str] = mapped_column(String(ID))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    eta_seconds: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    proposal_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Agreement(Base):
    """MarketplaceTaskAgreement: what an accept binds, written once in the accept's transaction."""

    __tablename__ = "marketplace_agreements"
    __table_args__ = (
        Index("ix_marketplace_agreements_run", "tenant_id", "run_id", unique=True),
        check_constraint("policy_source", PolicySource, table="marketplace_agreements"),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    rfq_id: Mapped[str] = mapped_column(String(ID))
    bid_id: Mapped[str] = mapped_column(String(ID))
    listing_id: Mapped[str | None] = mapped_column(String(ID))
    listing_revision: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(String(ID))
    settlement_id: Mapped[str] = mapped_column(String(ID))
    payer_agent_id: Mapped[str] = mapped_column(String(ID))
    payee_agent_id: Mapped[str] = mapped_column(String(ID))
    accepted_by_agent_id: Mapped[str] = mapped_column(String(ID))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    dispute_window_days: Mapped[int] = mapped_column(Integer)
    policy_id: Mapped[str] = mapped_column(String(ID))
    policy_version: Mapped[int] = mapped_column(Integer)
    policy_hash: Mapped[str] = mapped_column(String(128))
    policy_source: Mapped[str] = mapped_column(String(16))
    offer_hash: Mapped[str] = mapped_column(String(64))
    acceptance_hash: Mapped[str] = mapped_column(String(64))
    offer: Mapped[str] = mapped_column(Text)  # canonical JSON: the terms the offer hash covers
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer)
