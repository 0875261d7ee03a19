"""Stripe semantics (issue 28): events parked without a tenant, dead letters as states, the event's API
version, an invoice's service period, and payment failure reasons.

- `stripe_events.tenant_id` may be null, with `attribution` (tenant | platform | unattributed): account-level
  objects belong to the platform, an event whose tenant is not known yet is parked, not refused;
  `api_version` is the event's.
- `stripe_webhook_deliveries`: a replay updates the dead letter it re-judged (`replay_attempts`,
  `last_error`, `last_replayed_at`, `resolved_at`, `resolution`) instead of recording a copy.
- `stripe_objects`: an invoice's service period (`service_start`, `service_end`), what an object actually
  received (`amount_received_cents`), and a payment's failure facts.

Revision ID: 20261207_05_stripe_semantics
Revises: 20261207_04_onboarding
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "20261207_05_stripe_semantics"
down_revision = "20261207_04_onboarding"
branch_labels = None
depends_on = None

OBJECT_COLUMNS = (
    ("service_start", sa.BigInteger()),
    ("service_end", sa.BigInteger()),
    ("amount_received_cents", sa.BigInteger()),
    ("failure_code", sa.String(64)),
    ("decline_code", sa.String(64)),
    ("outcome_type", sa.String(64)),
    ("outcome_reason", sa.String(64)),
    ("network_status", sa.String(64)),
    ("attempt_count", sa.Integer()),
    ("related_id", sa.String(255)),
)


def upgrade() -> None:
    with op.batch_alter_table("stripe_events") as batch:
        batch.alter_column("tenant_id", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("attribution", sa.String(16), nullable=False, server_default="tenant"))
        batch.add_column(sa.Column("api_version", sa.String(64), nullable=True))
        batch.create_index("ix_stripe_events_attribution", ["attribution", "customer_id"])
    with op.batch_alter_table("stripe_webhook_deliveries") as batch:
        batch.add_column(sa.Column("replay_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_replayed_at", sa.DateTime(timezone=False), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=False), nullable=True))
        batch.add_column(sa.Column("resolution", sa.String(16), nullable=True))
    with op.batch_alter_table("stripe_objects") as batch:
        for name, type_ in OBJECT_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    _backfill()


def _backfill() -> None:
    """Rows stored before: the new facts read from their payloads, as the code of this revision reads
    them (api/billing/payments.py), so no invoice loses its month."""
    from api.billing.payments import amount_received, failure_facts, service_period

    connection = op.get_bind()
    objects = sa.table("stripe_objects", sa.column("object_type"), sa.column("object_id"), sa.column("payload"),
                       *(sa.column(name) for name, _ in OBJECT_COLUMNS))  # fmt: skip
    rows = connection.execute(
        sa.select(objects.c.object_type, objects.c.object_id, objects.c.payload).where(
            objects.c.object_type.in_(("invoice", "charge"))
        )
    ).all()
    for object_type, object_id, payload in rows:
        obj = json.loads(payload)
        start, end = service_period(obj) if object_type == "invoice" else (None, None)
        values = {"service_start": start, "service_end": end, "amount_received_cents": amount_received(object_type, obj),
                  **failure_facts(object_type, obj)}  # fmt: skip
        connection.execute(
            objects.update()
            .where(objects.c.object_type == object_type, objects.c.object_id == object_id)
            .values(**values)
        )
    events = sa.table("stripe_events", sa.column("event_id"), sa.column("payload"), sa.column("api_version"))
    for event_id, payload in connection.execute(sa.select(events.c.event_id, events.c.payload)).all():
        version = json.loads(payload).get("api_version")
        if isinstance(version, str) and version:
            connection.execute(
                events.update().where(events.c.event_id == event_id).values(api_version=version[:64])
            )


def downgrade() -> None:
    with op.batch_alter_table("stripe_objects") as batch:
        for name, _ in reversed(OBJECT_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("stripe_webhook_deliveries") as batch:
        for name in ("resolution", "resolved_at", "last_replayed_at", "last_error", "replay_attempts"):
            batch.drop_column(name)
    # The old schema cannot hold an event without a tenant (the platform's, or parked): they go.
    op.execute("DELETE FROM stripe_events WHERE tenant_id IS NULL")
    with op.batch_alter_table("stripe_events") as batch:
        batch.drop_index("ix_stripe_events_attribution")
        batch.drop_column("api_version")
        batch.drop_column("attribution")
        batch.alter_column("tenant_id", existing_type=sa.String(64), nullable=False)
