"""The onboarding vocabulary lives once, in the seed onboarding_event_types: the API reads it
(api/onboarding/steps.py), and the funnel mart's hand-written step columns must name exactly its steps."""

from __future__ import annotations

from api.onboarding.steps import EVENT_TYPES, FUNNEL_STEPS
from settld.vocabulary import read_seed
from tests.vocabulary_drift import MODELS, _affixed, _contract_columns, read_repo


def test_the_funnel_marts_steps_are_the_seeds() -> None:
    columns = _contract_columns(
        read_repo, f"{MODELS}/marts/onboarding/_onboarding.yml", "fct_onboarding_funnel"
    )
    assert _affixed(columns, suffix="_at") == {step.event_type for step in FUNNEL_STEPS}
    pivot = read_repo(f"{MODELS}/marts/onboarding/fct_onboarding_funnel.sql")
    for step in FUNNEL_STEPS:
        assert f"steps_reached.step = '{step.event_type}'" in pivot


def test_the_api_reads_the_seed() -> None:
    rows = read_seed("onboarding_event_types")
    assert list(EVENT_TYPES) == [row["event_type"] for row in rows]
    assert [step.funnel_step_order for step in FUNNEL_STEPS] == [1, 2, 3, 4, 5]
    witnessed = {row["event_type"] for row in rows if row["is_platform_witnessed"] == "true"}
    assert witnessed == {"signup", "api_key_created", "first_settlement_completed", "tenant_created"}
