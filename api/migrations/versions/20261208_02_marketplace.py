"""Marketplace (issue 20): capability listings and their immutable revisions, RFQs, bids and their proposal
rounds (counter-offers), and the agreements an accept writes.

The status values are written out here, not imported (see 20261206_01_state_checks): a new status is a
new revision.

Revision ID: 20261208_02_marketplace
Revises: 20261208_01_policies
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261208_02_marketplace"
down_revision = "20261208_01_policies"
branch_labels = None
depends_on = None

# (table, column, allowed values, whether null is allowed), as in 20261206_01_state_checks.
CHECKS = (
    ("marketplace_listings", "status", ("active", "paused", "retired"), False),
    ("marketplace_listings", "price_mode", ("fixed", "hourly", "per_unit", "quote"), False),
    ("marketplace_listing_revisions", "status", ("active", "paused", "retired"), False),
    ("marketplace_listing_revisions", "price_mode", ("fixed", "hourly", "per_unit", "quote"), False),
    ("marketplace_rfqs", "status", ("assigned", "cancelled", "closed", "expired", "open"), False),
    ("marketplace_bids", "status", ("accepted", "pending", "rejected"), False),
    ("marketplace_bid_proposals", "proposer_role", ("bidder", "poster"), False),
    ("marketplace_agreements", "policy_source", ("bid", "resolved"), False),
)
TABLES = (
    "marketplace_agreements", "marketplace_bid_proposals", "marketplace_bids", "marketplace_rfqs",
    "marketplace_listing_revisions", "marketplace_listings",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "marketplace_listings",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("listing_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("capability", sa.String(128), nullable=False),
        sa.Column("title", sa.String(240), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(128), nullable=True),
        sa.Column("seller_agent_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("price_mode", sa.String(16), nullable=False),
        sa.Column("price_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("price_min_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("price_max_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price_unit", sa.String(64), nullable=True),
        sa.Column("availability", sa.Text(), nullable=True),
        sa.Column("sla_response_hours", sa.Integer(), nullable=True),
        sa.Column("sla_completion_hours", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'retired')", name="ck_marketplace_listings_status"
        ),
        sa.CheckConstraint(
            "price_mode IN ('fixed', 'hourly', 'per_unit', 'quote')",
            name="ck_marketplace_listings_price_mode",
        ),
    )
    op.create_index(
        "ix_marketplace_listings_updated", "marketplace_listings", ["tenant_id", "updated_at", "listing_id"]
    )
    op.create_table(
        "marketplace_listing_revisions",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("listing_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("actor_key_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("capability", sa.String(128), nullable=False),
        sa.Column("title", sa.String(240), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(128), nullable=True),
        sa.Column("seller_agent_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("price_mode", sa.String(16), nullable=False),
        sa.Column("price_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("price_min_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("price_max_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price_unit", sa.String(64), nullable=True),
        sa.Column("availability", sa.Text(), nullable=True),
        sa.Column("sla_response_hours", sa.Integer(), nullable=True),
        sa.Column("sla_completion_hours", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "price_mode IN ('fixed', 'hourly', 'per_unit', 'quote')",
            name="ck_marketplace_listing_revisions_price_mode",
        ),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'retired')", name="ck_marketplace_listing_revisions_status"
        ),
    )
    op.create_table(
        "marketplace_rfqs",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("rfq_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("listing_id", sa.String(128), nullable=True),
        sa.Column("listing_revision", sa.Integer(), nullable=True),
        sa.Column("capability", sa.String(128), nullable=False),
        sa.Column("title", sa.String(240), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("poster_agent_id", sa.String(128), nullable=False),
        sa.Column("from_type", sa.String(32), nullable=False),
        sa.Column("to_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("counter_offer_max_rounds", sa.Integer(), nullable=False),
        sa.Column("counter_offer_roles", sa.Text(), nullable=False),
        sa.Column("accepted_bid_id", sa.String(128), nullable=True),
        sa.Column("agreement_id", sa.String(128), nullable=True),
        sa.Column("run_id", sa.String(128), nullable=True),
        sa.Column("settlement_id", sa.String(128), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.CheckConstraint(
            "status IN ('assigned', 'cancelled', 'closed', 'expired', 'open')",
            name="ck_marketplace_rfqs_status",
        ),
    )
    op.create_index("ix_marketplace_rfqs_created", "marketplace_rfqs", ["tenant_id", "created_at", "rfq_id"])
    op.create_table(
        "marketplace_bids",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("bid_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("rfq_id", sa.String(128), nullable=False),
        sa.Column("bidder_agent_id", sa.String(128), nullable=False),
        sa.Column("from_type", sa.String(32), nullable=False),
        sa.Column("to_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("eta_seconds", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("policy_id", sa.String(128), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("policy_hash", sa.String(128), nullable=True),
        sa.Column("negotiation_round", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.CheckConstraint(
            "status IN ('accepted', 'pending', 'rejected')", name="ck_marketplace_bids_status"
        ),
    )
    op.create_index("ix_marketplace_bids_rfq", "marketplace_bids", ["tenant_id", "rfq_id", "status"])
    op.create_table(
        "marketplace_bid_proposals",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("bid_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("round", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("rfq_id", sa.String(128), nullable=False),
        sa.Column("proposer_role", sa.String(16), nullable=False),
        sa.Column("proposer_agent_id", sa.String(128), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("eta_seconds", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("proposal_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.CheckConstraint(
            "proposer_role IN ('bidder', 'poster')", name="ck_marketplace_bid_proposals_proposer_role"
        ),
    )
    op.create_table(
        "marketplace_agreements",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("agreement_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("rfq_id", sa.String(128), nullable=False),
        sa.Column("bid_id", sa.String(128), nullable=False),
        sa.Column("listing_id", sa.String(128), nullable=True),
        sa.Column("listing_revision", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("settlement_id", sa.String(128), nullable=False),
        sa.Column("payer_agent_id", sa.String(128), nullable=False),
        sa.Column("payee_agent_id", sa.String(128), nullable=False),
        sa.Column("accepted_by_agent_id", sa.String(128), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("dispute_window_days", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.String(128), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("policy_hash", sa.String(128), nullable=False),
        sa.Column("policy_source", sa.String(16), nullable=False),
        sa.Column("offer_hash", sa.String(64), nullable=False),
        sa.Column("acceptance_hash", sa.String(64), nullable=False),
        sa.Column("offer", sa.Text(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "policy_source IN ('bid', 'resolved')", name="ck_marketplace_agreements_policy_source"
        ),
    )
    op.create_index(
        "ix_marketplace_agreements_run", "marketplace_agreements", ["tenant_id", "run_id"], unique=True
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
