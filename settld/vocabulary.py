"""Words more than one stage uses, defined once: in dbt seeds, which dbt and Python both read.

Each vocabulary is a CSV file in `dbt_project/seeds/` (docs/DECISIONLOG.md, "Vocabularies"): dbt joins
its models to the seed and tests columns against it; this module builds the Python names from the same
rows, so a word is added, renamed or removed in one place. The period gate and the operator API's triage
both judge a mismatch by its severity and by whether its triage is finished; the API's state machine
(`api/reconciliation/states.py`) decides which status may follow which, and a test checks that its
terminal statuses are the seed's handled ones (tests/test_vocabulary.py checks every such hand-written
implementation against the seeds).

    reconciliation_mismatch_types.csv     mismatch_type, source_type, mismatch_code, severity, title
    reconciliation_severities.csv         severity, severity_rank, blocks_period_close, description
    reconciliation_triage_statuses.csv    status, is_handled, description
    billing_webhook_rejection_reasons.csv reason, description

Row order is kept: reports list their checks in the seed's order of mismatch types, and the webhook
judges rejection reasons in the seed's order.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from settld.settings import DBT_PROJECT_DIR

SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
MONEY_RAILS_SOURCE = "money_rails_reconcile"  # the source_type of the money-rail reconciliation's types
FINANCE_RECONCILE_SOURCE = "finance_reconcile"  # the GL batch against the party statements
ESCROW_NET_CLOSE_SOURCE = "escrow_net_close"  # the ledger's escrow against the held roll-forward
# The marts whose rows are mismatches of the one triage queue (the columns of fct_reconciliation_mismatches):
# published to the operator API and listed by `settld mismatches`. The period gate judges the first three
# with `reconciliation.serious_mismatches_handled` and the finance findings with its own two checks
# (quality/gate_finance.py), so a GL or escrow finding is counted once.
GATED_BY_RECONCILIATION_CHECK = (
    "fct_reconciliation_mismatches",
    "fct_billing_invoice_mismatches",
    "fct_marketplace_agreement_mismatches",
)
MISMATCH_MARTS = (*GATED_BY_RECONCILIATION_CHECK, "fct_finance_reconciliation_mismatches")
# A gate verdict's `geValidation` when its great-expectations suites reused earlier passes of unchanged
# landing files instead of validating every row of the period (the daily run's gate,
# quality/raw_suites/passes.py): a close refuses it and asks for `settld gate`.
GE_REUSED_PASSES = "reused_passes"
_FLAGS = {"true": True, "false": False}


@dataclass(frozen=True)
class MismatchTypeRow:
    mismatch_type: str
    source_type: str
    mismatch_code: str
    severity: str
    title: str


@dataclass(frozen=True)
class Vocabulary:
    """The vocabulary seeds of one seeds folder, checked for consistency with each other."""

    severity_rank: dict[str, int]  # most serious first
    serious_severities: frozenset[str]  # block the period gate and the close until handled
    triage_statuses: tuple[str, ...]
    handled_statuses: frozenset[str]  # terminal: the mismatch no longer blocks
    mismatch_types: dict[str, MismatchTypeRow]
    webhook_rejection_reasons: tuple[str, ...]  # in the order the webhook judges them

    def mismatch_types_of(self, source_type: str) -> tuple[str, ...]:
        return tuple(name for name, row in self.mismatch_types.items() if row.source_type == source_type)

    def severities_of(self, source_type: str) -> tuple[str, ...]:
        """The severities the types of one reconciliation have, most serious first."""
        used = {self.mismatch_types[name].severity for name in self.mismatch_types_of(source_type)}
        return tuple(severity for severity in self.severity_rank if severity in used)


def read_seed(name: str, seeds_dir: Path = SEEDS_DIR) -> list[dict[str, str]]:
    with (seeds_dir / f"{name}.csv").open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _flag(row: dict[str, str], column: str) -> bool:
    try:
        return _FLAGS[row[column]]
    except KeyError:
        raise ValueError(f"{column} must be true or false, not {row.get(column)!r}: {row}") from None


def load(seeds_dir: Path = SEEDS_DIR) -> Vocabulary:
    """Read the vocabulary seeds; a mismatch type of an unknown severity is an error, as dbt's test is."""
    severities = sorted(
        read_seed("reconciliation_severities", seeds_dir), key=lambda r: int(r["severity_rank"])
    )
    statuses = read_seed("reconciliation_triage_statuses", seeds_dir)
    types = {
        row["mismatch_type"]: MismatchTypeRow(**row)
        for row in read_seed("reconciliation_mismatch_types", seeds_dir)
    }
    vocabulary = Vocabulary(
        severity_rank={row["severity"]: int(row["severity_rank"]) for row in severities},
        serious_severities=frozenset(
            row["severity"] for row in severities if _flag(row, "blocks_period_close")
        ),
        triage_statuses=tuple(row["status"] for row in statuses),
        handled_statuses=frozenset(row["status"] for row in statuses if _flag(row, "is_handled")),
        mismatch_types=types,
        webhook_rejection_reasons=tuple(
            row["reason"] for row in read_seed("billing_webhook_rejection_reasons", seeds_dir)
        ),
    )
    if unknown := {row.severity for row in types.values()} - set(vocabulary.severity_rank):
        raise ValueError(f"mismatch types with severities missing from reconciliation_severities: {unknown}")
    return vocabulary


def _enum(name: str, words: tuple[str, ...] | list[str]) -> type[StrEnum]:
    return StrEnum(name, {word: word for word in words}, module=__name__, qualname=name)


VOCABULARY = load()

Severity = _enum("Severity", list(VOCABULARY.severity_rank))
TriageStatus = _enum("TriageStatus", VOCABULARY.triage_statuses)
MismatchType = _enum("MismatchType", list(VOCABULARY.mismatch_types))
# The reconciliations that feed the one triage queue (the queue's `source_type` filter).
SourceType = _enum(
    "SourceType", list(dict.fromkeys(row.source_type for row in VOCABULARY.mismatch_types.values()))
)

# Published severities rank 1..3 (marts.fct_reconciliation_mismatches.severity_rank); an operator may also
# lower a mismatch to `low`, which sorts after them.
SEVERITY_RANK: dict[str, int] = VOCABULARY.severity_rank
# The period gate and the close: a mismatch of these (effective) severities blocks until it is handled,
# i.e. its triage reached a terminal status.
SERIOUS_SEVERITIES = VOCABULARY.serious_severities
HANDLED_STATUSES = VOCABULARY.handled_statuses
MISMATCH_TYPES: dict[str, MismatchTypeRow] = VOCABULARY.mismatch_types
MONEY_RAIL_MISMATCH_TYPES = VOCABULARY.mismatch_types_of(MONEY_RAILS_SOURCE)
MONEY_RAIL_SEVERITIES = VOCABULARY.severities_of(MONEY_RAILS_SOURCE)  # critical, high, medium
WEBHOOK_REJECTION_REASONS = VOCABULARY.webhook_rejection_reasons
# The one plan catalog (seed billing_plan_catalog), in its order: lowest tier first.
BILLING_PLANS = tuple(row["plan"] for row in read_seed("billing_plan_catalog"))
# How many settlement policy versions a tenant of each plan may register (seed settlement_policy_quotas;
# the API's 403 POLICY_VERSION_QUOTA).
POLICY_VERSION_QUOTAS: dict[str, int] = {
    row["plan"]: int(row["max_policy_versions"]) for row in read_seed("settlement_policy_quotas")
}
