"""The drift check of the vocabularies: every hand-written implementation of a vocabulary agrees with its seed.

Python names derive from the seeds (settld/vocabulary.py) and SQL lists are read from them (macro
seed_values), so they cannot drift. What can is code that *implements* each word: a rule in SQL, a column
of a mart's contract, a reason the webhook raises, a status of the state machine, a type the sample-data
generator injects, a rule of the bench's independent floor query. `implementations` reads each of them;
`drift` names every word that is in the seed and not implemented, or implemented and not in the seed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import yaml

from settld.vocabulary import MONEY_RAILS_SOURCE, Vocabulary

REPO = Path(__file__).resolve().parents[1]
MODELS = "dbt_project/models"
Reader = Callable[[str], str]


def read_repo(path: str) -> str:
    return (REPO / path).read_text()


def _contract_columns(read: Reader, yaml_path: str, model: str) -> list[str]:
    models = yaml.safe_load(read(yaml_path))["models"]
    return [column["name"] for column in next(m for m in models if m["name"] == model)["columns"]]


def _affixed(columns: list[str], *, prefix: str = "", suffix: str = "") -> set[str]:
    return {c.removeprefix(prefix).removesuffix(suffix) for c in columns if c.startswith(prefix) and c.endswith(suffix)}  # fmt: skip


def _raised_reasons(source: str) -> set[str]:
    return {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "WebhookRejected"
        and node.args and isinstance(node.args[0], ast.Constant)
    }  # fmt: skip


def _retired_reasons(source: str) -> set[str]:
    """The reason keys webhook.py keeps in the seed for old deliveries (RETIRED_REASON_KEYS), never raised."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "RETIRED_REASON_KEYS" for t in node.targets
        ):
            return {element.value for element in node.value.elts}
    return set()


def implementations(read: Reader = read_repo) -> dict[str, set[str]]:
    """What the code implements, per place: `<vocabulary>: <where>` -> its words. A place marked
    `(at least)` cannot tell a stray word from its other columns: dbt's enforced contract catches that."""
    from api.reconciliation.states import TRIAGE
    from devtools.sample_data.rails import DECOY_TYPES, INSTRUCTION_RATES, OPERATION_RATES

    rules = f"{MODELS}/intermediate/reconciliation/int_reconciliation__payout_keys_matched.sql"
    mismatches = f"{MODELS}/marts/reconciliation/fct_reconciliation_mismatches.sql"
    (actual_side,) = re.findall(r"set actual_side_type = '(\w+)'", read(mismatches))
    summary = _contract_columns(
        read, f"{MODELS}/marts/reconciliation/_reconciliation.yml", "fct_reconciliation_summary"
    )
    health = _contract_columns(read, f"{MODELS}/marts/billing/_billing.yml", "fct_stripe_webhook_health")
    floor = read("devtools/bench/floor.sql")
    return {
        "money-rail types: rules in dbt (is_<type> flags of the key-level model, and the actual side)":
            set(re.findall(r"\bas is_(\w+)", read(rules))) | {actual_side},
        "money-rail types: injected by devtools/sample_data": (set(INSTRUCTION_RATES) | set(OPERATION_RATES))
            - set(DECOY_TYPES),
        "money-rail types: rules of devtools/bench/floor.sql":
            set(re.findall(r"then '(\w+)' end", floor)) | set(re.findall(r"'(\w+)' as mismatch_type", floor)),
        "money-rail types (at least): <type>_count columns of fct_reconciliation_summary":
            _affixed(summary, suffix="_count"),
        "money-rail severities (at least): <severity>_mismatch_count columns of fct_reconciliation_summary":
            _affixed(summary, suffix="_mismatch_count"),
        "webhook rejection reasons: raised by api/billing/webhook.py": _raised_reasons(read("api/billing/webhook.py"))
            | _retired_reasons(read("api/billing/webhook.py")),
        "webhook rejection reasons: rejected_<reason> columns of fct_stripe_webhook_health":
            _affixed(health, prefix="rejected_") - {"rejected"},
        "triage statuses: states of the triage state machine": {s.value for s in TRIAGE.transitions},
        "handled triage statuses: terminal states of the triage state machine": {s.value for s in TRIAGE.terminal},
    }  # fmt: skip


def _words(vocabulary: Vocabulary) -> dict[str, set[str]]:
    return {
        "money-rail types": set(vocabulary.mismatch_types_of(MONEY_RAILS_SOURCE)),
        "money-rail severities": set(vocabulary.severities_of(MONEY_RAILS_SOURCE)),
        "webhook rejection reasons": set(vocabulary.webhook_rejection_reasons),
        "triage statuses": set(vocabulary.triage_statuses),
        "handled triage statuses": set(vocabulary.handled_statuses),
    }


def drift(vocabulary: Vocabulary, implemented: dict[str, set[str]] | None = None) -> list[str]:
    """One line per place whose words differ from the seed's; empty when everything agrees."""
    implemented = implementations() if implemented is None else implemented
    seeds = _words(vocabulary)
    problems = []
    for place, words in implemented.items():
        vocabulary_name = place.split(":")[0].removesuffix(" (at least)")
        if missing := seeds[vocabulary_name] - words:
            problems.append(f"{place}: in the seed, not implemented: {sorted(missing)}")
        if "(at least)" not in place and (extra := words - seeds[vocabulary_name]):
            problems.append(f"{place}: implemented, not in the seed: {sorted(extra)}")
    return problems
