"""One source per vocabulary (docs/DECISIONLOG.md, "Vocabularies"): the dbt seeds.

Python's names are built from the seeds, dbt's YAML tests words against the seeds, and every hand-written
implementation of a word agrees with its seed (tests/vocabulary_drift.py). Editing a seed without the
code, or the code without the seed, fails here.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml

from settld import vocabulary
from settld.vocabulary import SEEDS_DIR, load, read_seed
from tests.vocabulary_drift import drift, implementations, read_repo


def _rows(name: str, column: str) -> list[str]:
    return [row[column] for row in read_seed(name)]


def test_python_names_are_the_seed_rows() -> None:
    assert [s.value for s in vocabulary.Severity] == _rows("reconciliation_severities", "severity")
    assert {
        row["severity"]: int(row["severity_rank"]) for row in read_seed("reconciliation_severities")
    } == vocabulary.SEVERITY_RANK
    assert [s.value for s in vocabulary.TriageStatus] == _rows("reconciliation_triage_statuses", "status")
    assert [t.value for t in vocabulary.MismatchType] == _rows(
        "reconciliation_mismatch_types", "mismatch_type"
    )
    assert tuple(_rows("billing_webhook_rejection_reasons", "reason")) == vocabulary.WEBHOOK_REJECTION_REASONS
    assert {"critical", "high"} == vocabulary.SERIOUS_SEVERITIES
    assert {"resolved", "dismissed"} == vocabulary.HANDLED_STATUSES


def test_every_copy_in_python_is_the_vocabulary() -> None:
    """The lists that used to be written out by hand are now the vocabulary's own objects."""
    from api.billing import webhook
    from api.reconciliation import schemas, states
    from devtools.sample_data import rails
    from reports import reconciliation

    assert states.Severity is vocabulary.Severity and states.TriageStatus is vocabulary.TriageStatus
    assert schemas.MismatchType is vocabulary.MismatchType
    assert reconciliation.MISMATCH_TYPES is vocabulary.MONEY_RAIL_MISMATCH_TYPES
    assert webhook.REASON_KEYS is vocabulary.WEBHOOK_REJECTION_REASONS
    assert rails.MISMATCH_TYPES is vocabulary.MONEY_RAIL_MISMATCH_TYPES


def test_the_code_implements_exactly_the_seeds() -> None:
    assert drift(vocabulary.VOCABULARY) == []


def _seeds_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEEDS_DIR, tmp_path / "seeds"))


def _append(seeds: Path, name: str, row: list[str]) -> None:
    with (seeds / f"{name}.csv").open("a", newline="") as file:
        csv.writer(file, lineterminator="\n").writerow(row)


def test_a_word_added_to_a_seed_without_its_code_is_reported(tmp_path: Path) -> None:
    seeds = _seeds_copy(tmp_path)
    _append(seeds, "reconciliation_mismatch_types",
            ["ghost_payout", "money_rails_reconcile", "MONEY_RAIL_GHOST_PAYOUT", "high", "A payout nobody made"])  # fmt: skip
    _append(seeds, "billing_webhook_rejection_reasons", ["body_too_large", "The body is over the limit"])
    _append(seeds, "reconciliation_triage_statuses", ["escalated", "false", "Handed to the provider"])

    problems = "\n".join(drift(load(seeds)))

    for place in ("rules in dbt", "injected by devtools/sample_data", "devtools/bench/floor.sql",
                  "fct_reconciliation_summary", "raised by api/billing/webhook.py",
                  "fct_stripe_webhook_health", "states of the triage state machine"):  # fmt: skip
        assert place in problems, place
    assert "ghost_payout" in problems and "body_too_large" in problems and "escalated" in problems


def test_a_word_dropped_from_a_seed_or_a_changed_flag_is_reported(tmp_path: Path) -> None:
    seeds = _seeds_copy(tmp_path)
    reasons = seeds / "billing_webhook_rejection_reasons.csv"
    reasons.write_text(
        "".join(line for line in reasons.read_text().splitlines(True) if "schema_invalid" not in line)
    )
    statuses = seeds / "reconciliation_triage_statuses.csv"
    statuses.write_text(statuses.read_text().replace("dismissed,true", "dismissed,false"))

    problems = "\n".join(drift(load(seeds)))

    assert "implemented, not in the seed: ['schema_invalid']" in problems
    assert (
        "terminal states of the triage state machine: implemented, not in the seed: ['dismissed']" in problems
    )


def test_code_changed_without_its_seed_is_reported() -> None:
    changed = {
        "api/billing/webhook.py": read_repo("api/billing/webhook.py")
        + '\n\ndef _limit(body):\n    raise WebhookRejected("body_too_large", "over the limit")\n',
        "devtools/bench/floor.sql": read_repo("devtools/bench/floor.sql").replace(
            "then 'stale_in_flight' end",
            "then 'stale_in_flight' end,\n case when false then 'late_payout' end",
        ),
    }

    problems = "\n".join(
        drift(vocabulary.VOCABULARY, implementations(lambda path: changed.get(path) or read_repo(path)))
    )

    assert "raised by api/billing/webhook.py: implemented, not in the seed: ['body_too_large']" in problems
    assert "floor.sql: implemented, not in the seed: ['late_payout']" in problems


def test_a_mismatch_type_of_an_unknown_severity_does_not_load(tmp_path: Path) -> None:
    seeds = _seeds_copy(tmp_path)
    _append(seeds, "reconciliation_mismatch_types", ["odd", "money_rails_reconcile", "ODD", "urgent", "?"])
    with pytest.raises(ValueError, match="urgent"):
        load(seeds)


def _accepted_values_lists() -> list[tuple[str, list[str]]]:
    found = []

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            if "accepted_values" in node:
                test = node["accepted_values"]
                found.append((where, (test.get("arguments") or test)["values"]))
            for key, value in node.items():
                walk(value, f"{where}/{node.get('name', key)}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for path in SEEDS_DIR.parent.rglob("*.yml"):
        if "target" not in path.parts:
            walk(yaml.safe_load(path.read_text()), str(path.relative_to(SEEDS_DIR.parent)))
    return found


def test_dbt_tests_words_of_a_seed_against_the_seed_never_a_list() -> None:
    """An `accepted_values` list made of one seed's words is a copy of the seed: use `relationships`."""
    seeds = {
        path.stem: {row[next(iter(row))] for row in read_seed(path.stem)} for path in SEEDS_DIR.glob("*.csv")
    }
    lists = _accepted_values_lists()
    assert lists, "the YAML walk found no accepted_values at all"
    copies = [
        (where, seed) for where, values in lists for seed, words in seeds.items() if set(values) <= words
    ]
    assert not copies, copies
