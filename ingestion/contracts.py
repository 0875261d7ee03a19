"""Source contracts of the landing zone (docs/architecture.md section 4), as data.

One `Dataset` per raw table. The loader validates every landing row against its dataset, stores the
rows that conform in `raw.<name>` with typed columns, and sends the others to `raw.quarantine` with
the first rule they broke. The sample-data generator writes files in these contracts.
"""

from __future__ import annotations

from ingestion.contract_types import SQL_TYPES, Column, ColumnKind, Dataset  # noqa: F401 (re-exported)
from ingestion.finance_contracts import FINANCE_DATASETS, FINANCE_FOLDERS

CURRENCY_SQL_PATTERN = "^[A-Z]{3}$"
SETTLEMENT_STATUSES = ("locked", "released", "refunded")
DISPUTE_STATUSES = ("none", "open", "closed")
PARTY_ROLES = ("payee", "payer")
DIRECTIONS = ("payout", "collection")
OPERATION_STATES = ("initiated", "submitted", "confirmed", "failed", "cancelled", "reversed")

SETTLEMENTS = Dataset(
    name="settlements",
    description="One row per run settlement, exported by the settlement kernel (latest state wins by updated_at).",
    natural_key=("tenant_id", "settlement_id"),
    min_rows=1,
    columns=(
        Column("tenant_id", required=True),
        Column("settlement_id", required=True),
        Column("run_id", required=True),
        Column("payer_agent_id", required=True),
        Column("payee_agent_id", required=True),
        Column("amount_cents", "integer", required=True, min_value=1),
        Column("released_amount_cents", "integer", min_value=0),
        Column("refunded_amount_cents", "integer", min_value=0),
        Column("currency", "currency", required=True),
        Column("status", "enum", required=True, values=SETTLEMENT_STATUSES),
        Column("policy_id"),
        Column("policy_version", "integer", min_value=1),
        Column("policy_hash"),
        Column("locked_at", "timestamp", required=True),
        Column("resolved_at", "timestamp"),
        Column("dispute_status", "enum", values=DISPUTE_STATUSES),
        # Days after resolved_at during which the settlement may be disputed (absent: no window, 0 days).
        Column("dispute_window_days", "integer", min_value=0),
        Column("updated_at", "timestamp", required=True),
    ),
)

PAYOUT_INSTRUCTIONS = Dataset(
    name="payout_instructions",
    description="What the kernel says each party must be paid for a period: the expected side of reconciliation.",
    natural_key=("tenant_id", "payout_key"),
    min_rows=1,
    columns=(
        Column("tenant_id", required=True),
        Column("payout_key", required=True),
        Column("party_id", required=True),
        Column("party_role", "enum", required=True, values=PARTY_ROLES),
        Column("period", "period", required=True),
        Column("amount_cents", "integer", required=True, min_value=0),
        Column("currency", "currency", required=True),
        Column("provider_id", required=True),
        Column("destination_ref"),
        Column("statement_hash"),
        Column("created_at", "timestamp", required=True),
    ),
)

MONEY_RAIL_OPERATIONS = Dataset(
    name="money_rail_operations",
    description="What the money rails actually did: one row per provider operation (latest state by updated_at).",
    natural_key=("provider_id", "operation_id"),
    min_rows=1,
    columns=(
        Column("provider_id", required=True),
        Column("operation_id", required=True),
        Column("tenant_id", required=True),
        Column("direction", "enum", required=True, values=DIRECTIONS),
        Column("payout_key"),
        Column("amount_cents", "integer", required=True, min_value=0),
        Column("currency", "currency", required=True),
        Column("state", "enum", required=True, values=OPERATION_STATES),
        Column("reason_code"),
        Column("provider_ref"),
        Column("initiated_at", "timestamp", required=True),
        Column("submitted_at", "timestamp"),
        Column("confirmed_at", "timestamp"),
        Column("failed_at", "timestamp"),
        Column("cancelled_at", "timestamp"),
        Column("reversed_at", "timestamp"),
        Column("updated_at", "timestamp", required=True),
    ),
)

STRIPE_EVENTS = Dataset(
    name="stripe_events",
    description="Stripe Event objects (billing of tenants), one JSON object per line; de-duplicated on event id in staging.",
    natural_key=("event_id",),
    formats=("jsonl",),
    keep_payload=True,
    columns=(
        Column("event_id", required=True, json_path="$.id"),
        Column("event_type", required=True, json_path="$.type"),
        Column("created_at", "epoch_seconds", required=True, json_path="$.created"),
        Column("api_version"),
        Column("livemode", "boolean"),
        Column("account"),
        # v2 event notifications (thin events) carry no data.object: their related_object is fetched later
        Column("object_type", json_path="$.data.object.object"),
        Column("object_id", json_path="$.data.object.id"),
        Column("customer_id", json_path="$.data.object.customer"),
        Column("tenant_id", json_path="$.data.object.metadata.tenant_id"),
    ),
)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (SETTLEMENTS, PAYOUT_INSTRUCTIONS, MONEY_RAIL_OPERATIONS, STRIPE_EVENTS, *FINANCE_DATASETS)
}
DATASET_FOLDERS: dict[str, str] = {
    "settlements": "settlements",
    "payout_instructions": "payout_instructions",
    "money_rail_operations": "money_rail_operations",
    "stripe_events": "stripe/events",
    **FINANCE_FOLDERS,
}

# Load metadata carried by every raw row.
LOAD_METADATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_source_file", "varchar"),
    ("_source_row", "bigint"),
    ("_file_sha256", "varchar"),
    ("_loaded_at", "timestamp"),
)

# Reason codes a quarantined row can carry (the column that broke the rule is in reason_detail).
REASON_CODES = (
    "invalid_json",  # the line is not JSON
    "not_an_object",  # the JSON value is not an object
    "malformed_row",  # a CSV row with a different number of fields than the header
    "missing_column",  # the check's own rule; the loader rejects such a file (missing_required_column)
    "missing_required",  # a required value is null or empty
    "invalid_type",  # an object or array where a scalar belongs
    "invalid_integer",  # not a whole number (12.5, "abc", 1e3)
    "out_of_range",  # an integer below the contract's minimum
    "invalid_enum",  # a value outside the contract's set
    "invalid_period",  # not YYYY-MM
    "invalid_currency",  # not three upper-case letters
    "invalid_timestamp",  # not ISO-8601 with a UTC offset, or not a real instant
    "invalid_boolean",
)

# What became of a landing file, in the ledger `raw.load_files` (column `status`): its rows are in raw,
# or none of them are and `reason` says why (docs/DECISIONLOG.md, "Landing files and the raw layer").
FILE_STATUSES = ("loaded", "rejected", "duplicate")

# Reason codes of a file that is not loaded (column `reason`; `reason_detail` says where and what). A
# structural fault of the file rejects the file as a whole: its rows are not quarantined one by one.
FILE_REASON_CODES = (
    "unreadable_parquet",  # a .parquet file that cannot be read: truncated, 0 bytes, a damaged page
    "invalid_encoding",  # a text file that is not UTF-8 (or holds NUL bytes): byte offset and line named
    "wrong_format",  # the content does not match the extension (a Parquet file named .csv, ...)
    "malformed_header",  # a CSV header with an empty, repeated or reserved column name
    "malformed_csv",  # CSV text the csv reader cannot split (a stray carriage return, a huge field)
    "missing_required_column",  # the file lacks a column its contract requires
    "duplicate_file",  # the same content (sha256) is already loaded under another name: status duplicate
    "row_count_mismatch",  # records read != rows loaded + quarantined: nothing is written (a loader fault)
    "unstorable_value",  # a value no warehouse text can hold (a NUL character in a Parquet string)
    "unreadable_file",  # any other failure to read the file; the detail holds the error
)

# A loaded text file with no data rows (0 bytes, blank lines or a header only) is legal but shown.
FILE_WARNING_NO_DATA_ROWS = "no_data_rows"


class FileRejected(Exception):
    """A landing file cannot be loaded: `code` is one of FILE_REASON_CODES, `detail` says where and what."""

    def __init__(self, code: str, detail: str) -> None:
        if code not in FILE_REASON_CODES:
            raise ValueError(f"unknown file reason code: {code}")
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def raw_table_columns(dataset: Dataset) -> list[tuple[str, str]]:
    columns = [(c.name, c.sql_type) for c in dataset.columns]
    if dataset.keep_payload:
        columns.append(("payload", "varchar"))
    return columns + list(LOAD_METADATA_COLUMNS)


def raw_table_ddl(dataset: Dataset, schema: str = "raw") -> str:
    body = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in raw_table_columns(dataset))
    return f"create table if not exists {schema}.{dataset.name} (\n    {body}\n)"


QUARANTINE_DDL = """
create table if not exists raw.quarantine (
    dataset varchar not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    source_row bigint not null,
    reason_code varchar not null,
    reason_detail varchar,
    raw_payload varchar,
    loaded_at timestamp not null
)"""

LOAD_FILES_DDL = """
create table if not exists raw.load_files (
    dataset varchar not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    file_format varchar not null,
    rows_in bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    loaded_at timestamp not null,
    primary key (dataset, source_file)
)"""
# The keys that rows leaving raw carried (a corrected file replacing its rows, a file now rejected), so the
# incremental dbt models recompute those keys (docs/DECISIONLOG.md, "Incremental runs"). Only the datasets
# of incremental models are recorded; their key columns below, each required by its contract.
LOAD_DELETIONS_DDL = """
create table if not exists raw.load_deletions (
    dataset varchar not null,
    source_file varchar not null,
    tenant_id varchar,
    payout_key varchar,
    provider_id varchar,
    operation_id varchar,
    deleted_at timestamp not null
)"""
# Key columns added after the table's first version (the kernel's books), added to existing warehouses by
# `ensure_raw_schema` as the ledger's are.
LOAD_DELETIONS_ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("entry_id", "varchar"),
    ("batch_id", "varchar"),
    ("statement_id", "varchar"),
    ("period", "varchar"),
)
# The kernel's books are keyed by their grain's required prefix (an entry's postings, a batch's lines, a
# statement's lines, a tenant's period): an incremental build recomputes every row of such a key.
DELETION_KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "payout_instructions": ("tenant_id", "payout_key"),
    "money_rail_operations": ("tenant_id", "payout_key", "provider_id", "operation_id"),
    "ledger_postings": ("tenant_id", "entry_id"),
    "gl_batches": ("tenant_id", "batch_id"),
    "gl_batch_lines": ("tenant_id", "batch_id"),
    "party_statements": ("tenant_id", "statement_id"),
    "party_statement_lines": ("tenant_id", "statement_id"),
    "held_exposure_rollforwards": ("tenant_id", "period"),
    "month_closes": ("tenant_id", "period"),
}
# Ledger columns added after the table's first version: `ensure_raw_schema` adds them to every warehouse,
# new or existing, the way it adds a contract's new columns (rows loaded before them were all loaded).
LOAD_FILES_ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("status", "varchar default 'loaded'"),
    ("reason", "varchar"),
    ("reason_detail", "varchar"),
)
LOAD_FILES_COLUMNS: tuple[str, ...] = (
    "dataset",
    "source_file",
    "file_sha256",
    "file_format",
    "rows_in",
    "rows_loaded",
    "rows_quarantined",
    "loaded_at",
    *(name for name, _ in LOAD_FILES_ADDED_COLUMNS),
)
