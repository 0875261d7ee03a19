"""Contracts of the settlement kernel's books (docs/architecture.md section 4; meaning in docs/DECISIONLOG.md,
"Finance integrity"): the ledger's postings, the GL batch and party statements a month close produces, the
held-exposure roll-forward and the month closes themselves.

Every dataset is flat, so each loads from JSON Lines, CSV and Parquet alike: a GL batch is a header row
(`gl_batches`) and its lines (`gl_batch_lines`); a party statement is a header row (`party_statements`) and
lines (`party_statement_lines`) that are either a total of one account (`line_kind` total) or one included
journal entry (`line_kind` entry). Lines repeat their header's tenant and period, so a period's rows are
selected without a join. None is required (`min_rows` 0): a landing zone without the kernel's books loads,
and its tenants get no finance findings; a tenant whose books are partly there gets them all.
"""

from __future__ import annotations

from ingestion.contract_types import Column, Dataset

MONTH_CLOSE_STATUSES = ("closed", "open")
STATEMENT_LINE_KINDS = ("total", "entry")
BASES = ("settled_at", "created_at")

LEDGER_POSTINGS = Dataset(
    name="ledger_postings",
    description="The kernel's journal: one row per posting of a journal entry (signed cents; an entry nets to zero).",
    natural_key=("tenant_id", "entry_id", "posting_index"),
    columns=(
        Column("tenant_id", required=True),
        Column("entry_id", required=True),
        Column("posting_index", "integer", required=True, min_value=0),
        Column("posted_at", "timestamp", required=True),
        Column("account_id", required=True),
        Column("party_id", required=True),
        Column("amount_cents", "integer", required=True),
        Column("currency", "currency", required=True),
        Column("memo"),
    ),
)

GL_BATCHES = Dataset(
    name="gl_batches",
    description="GLBatch.v1 headers: one batch per tenant and period close (the latest by generated_at counts).",
    natural_key=("tenant_id", "batch_id"),
    columns=(
        Column("tenant_id", required=True),
        Column("batch_id", required=True),
        Column("period", "period", required=True),
        Column("basis", "enum", required=True, values=BASES),
        Column("generated_at", "timestamp", required=True),
        Column("artifact_hash", required=True),
    ),
)

GL_BATCH_LINES = Dataset(
    name="gl_batch_lines",
    description="GLBatch.v1 lines: party, account, journal entry and signed amount.",
    natural_key=("tenant_id", "batch_id", "line_no"),
    columns=(
        Column("tenant_id", required=True),
        Column("batch_id", required=True),
        Column("period", "period", required=True),
        Column("line_no", "integer", required=True, min_value=1),
        Column("party_id", required=True),
        Column("account_id", required=True),
        Column("entry_id", required=True),
        Column("amount_cents", "integer", required=True),
        Column("currency", "currency", required=True),
    ),
)

PARTY_STATEMENTS = Dataset(
    name="party_statements",
    description="PartyStatement.v1 headers: the close `period` they belong to and the period and basis they state.",
    natural_key=("tenant_id", "statement_id"),
    columns=(
        Column("tenant_id", required=True),
        Column("statement_id", required=True),
        Column("party_id", required=True),
        Column("party_role", "enum", values=("payee", "payer")),
        Column("period", "period", required=True),
        Column("statement_period", "period", required=True),
        Column("basis", "enum", required=True, values=BASES),
        Column("generated_at", "timestamp", required=True),
        Column("artifact_hash", required=True),
    ),
)

PARTY_STATEMENT_LINES = Dataset(
    name="party_statement_lines",
    description="PartyStatement.v1 lines: a total per account id, or an included journal entry id.",
    natural_key=("tenant_id", "statement_id", "line_kind", "account_id", "entry_id"),
    columns=(
        Column("tenant_id", required=True),
        Column("statement_id", required=True),
        Column("period", "period", required=True),
        Column("line_kind", "enum", required=True, values=STATEMENT_LINE_KINDS),
        Column("account_id"),
        Column("entry_id"),
        Column("amount_cents", "integer"),
        Column("currency", "currency"),
    ),
)

HELD_EXPOSURE_ROLLFORWARDS = Dataset(
    name="held_exposure_rollforwards",
    description="HeldExposureRollforward.v1 per tenant, period and currency (the latest by generated_at counts).",
    natural_key=("tenant_id", "period", "currency", "artifact_id"),
    columns=(
        Column("tenant_id", required=True),
        Column("artifact_id", required=True),
        Column("period", "period", required=True),
        Column("currency", "currency", required=True),
        Column("opening_cents", "integer", required=True),
        Column("new_holds_cents", "integer", required=True),
        Column("released_cents", "integer", required=True),
        Column("forfeited_cents", "integer", required=True),
        Column("ending_cents", "integer", required=True),
        Column("generated_at", "timestamp", required=True),
    ),
)

MONTH_CLOSES = Dataset(
    name="month_closes",
    description="The kernel's month close per tenant and period (latest by updated_at): closed or open.",
    natural_key=("tenant_id", "period"),
    columns=(
        Column("tenant_id", required=True),
        Column("period", "period", required=True),
        Column("status", "enum", required=True, values=MONTH_CLOSE_STATUSES),
        Column("closed_at", "timestamp"),
        Column("chain_hash"),
        Column("updated_at", "timestamp", required=True),
    ),
)

FINANCE_DATASETS = (
    LEDGER_POSTINGS,
    GL_BATCHES,
    GL_BATCH_LINES,
    PARTY_STATEMENTS,
    PARTY_STATEMENT_LINES,
    HELD_EXPOSURE_ROLLFORWARDS,
    MONTH_CLOSES,
)
FINANCE_FOLDERS = {d.name: f"kernel_books/{d.name}" for d in FINANCE_DATASETS}
