"""Property tests of settlement policy evaluation (api/policies/evaluate.py): over random valid policies,
verification colours and amounts, released + refunded = amount, the release is the colour's rate rounded
down, and the decision is manual review exactly when a reason applies, with exactly the reasons that do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.policies.document import SettlementPolicy
from api.policies.evaluate import REASON_ORDER, STATUSES, evaluate, split

HASHES = st.sampled_from(["h1", "h2"])
EVIDENCE = st.none() | st.fixed_dictionaries(
    {"required": st.booleans(), "pricing_matrix_hash": st.none() | HASHES,
     "metering_report_hash": st.none() | HASHES, "invoice_claim_hash": st.none() | HASHES}
)  # fmt: skip
RULES = st.fixed_dictionaries(
    {
        "require_deterministic_verification": st.booleans(),
        **{f"auto_release_on_{status}": st.booleans() for status in STATUSES},
        **{f"{status}_release_rate_pct": st.integers(0, 100) for status in STATUSES},
        "max_auto_release_amount_cents": st.none() | st.integers(1, 10**9),
        "dispute_window_hours": st.none() | st.integers(1, 8760),
        "metering_pricing_evidence": EVIDENCE,
    }
)
POLICIES = st.builds(
    lambda mode, rules, version: SettlementPolicy.model_validate(
        {"mode": mode, "rules": rules, "policy_version": version}
    ),
    st.sampled_from(["automatic", "manual-review"]),
    RULES,
    st.integers(1, 50),
)
SUPPLIED = st.none() | st.fixed_dictionaries(
    {}, optional={f"{part}_hash": HASHES for part in ("pricing_matrix", "metering_report", "invoice_claim")}
)


@given(
    policy=POLICIES,
    status=st.sampled_from(STATUSES),
    amount=st.integers(0, 10**12),
    method=st.sampled_from(["deterministic", "attested", "discretionary"]),
    supplied=SUPPLIED,
)
def test_release_plus_refund_is_the_amount_and_the_reasons_are_exactly_those_that_apply(
    policy: SettlementPolicy, status: str, amount: int, method: str, supplied: dict | None
) -> None:
    decision = evaluate(policy, status, amount, verification_method={"mode": method}, evidence=supplied)
    rules = policy.rules
    rate = getattr(rules, f"{status}_release_rate_pct")
    assert decision.released_amount_cents + decision.refunded_amount_cents == amount
    assert decision.released_amount_cents == amount * rate // 100 and decision.release_rate_pct == rate
    assert 0 <= decision.released_amount_cents <= amount
    reasons = set(decision.reasons)
    assert ("policy_mode_manual_review" in reasons) == (policy.mode == "manual-review")
    assert ("verification_method_not_deterministic" in reasons) == (
        rules.require_deterministic_verification and method != "deterministic"
    )
    cap = rules.max_auto_release_amount_cents
    assert ("amount_exceeds_auto_release_limit" in reasons) == (cap is not None and amount > cap)
    for colour in STATUSES:
        disabled = colour == status and not getattr(rules, f"auto_release_on_{colour}")
        assert (f"auto_release_disabled_for_{colour}" in reasons) == disabled
    evidence = rules.metering_pricing_evidence
    for part in ("pricing_matrix", "metering_report", "invoice_claim"):
        got, expected = (supplied or {}).get(f"{part}_hash"), evidence and getattr(evidence, f"{part}_hash")
        checked = evidence is not None and evidence.required
        assert (f"metering_pricing_{part}_missing" in reasons) == (checked and got is None)
        assert (f"metering_pricing_{part}_mismatch" in reasons) == bool(
            checked and got is not None and expected is not None and got != expected
        )
    assert list(decision.reasons) == sorted(decision.reasons, key=REASON_ORDER.index)
    assert decision.decision == ("manual_review" if reasons else "auto_release")


def test_the_preset_decisions() -> None:
    balanced = {"policy_version": 1, "rules": {"green_release_rate_pct": 90, "amber_release_rate_pct": 40,
                "auto_release_on_amber": True, "max_auto_release_amount_cents": 150_000}}  # fmt: skip
    green = evaluate(balanced, "green", 10_001)
    assert (green.decision, green.released_amount_cents, green.refunded_amount_cents) == (
        "auto_release",
        9_000,
        1_001,
    )
    assert evaluate(balanced, "red", 500).reasons == ("auto_release_disabled_for_red",)
    large = evaluate(balanced, "amber", 150_001)
    assert (large.decision, large.reasons) == ("manual_review", ("amount_exceeds_auto_release_limit",))
    assert large.released_amount_cents == 60_000  # the proposal at the colour's rate


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        evaluate({"policy_version": 1}, "purple", 100)
    with pytest.raises(ValueError):
        split(-1, 50)
