"""What a policy decides for a verified run: released at the verification colour's rate, or manual review,
with the reference's reasons (settld-behaviour.md §6.1). The dispute and settlement code take the money
split from `split`, so a verdict's release and a policy's release round alike.

The decision always carries the split at the colour's rate: for `auto_release` it is what is released and
refunded; for `manual_review` it is the policy's proposal, which a reviewer confirms or overrides. Either
way released + refunded = amount (integers, no cent lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from api.policies.document import SettlementPolicy, VerificationMethod, document_hash

VerificationStatus = Literal["green", "amber", "red"]
STATUSES: tuple[str, ...] = ("green", "amber", "red")
EVIDENCE_PARTS = ("pricing_matrix", "metering_report", "invoice_claim")
# The order reasons are reported in (the reference's): every one that applies, not just the first.
REASON_ORDER = (
    "policy_mode_manual_review",
    "verification_method_not_deterministic",
    "amount_exceeds_auto_release_limit",
    *(f"auto_release_disabled_for_{status}" for status in STATUSES),
    *(f"metering_pricing_{part}_{what}" for part in EVIDENCE_PARTS for what in ("missing", "mismatch")),
)


@dataclass(frozen=True)
class Decision:
    decision: str  # "auto_release" | "manual_review"
    verification_status: str
    release_rate_pct: int
    released_amount_cents: int
    refunded_amount_cents: int
    reasons: tuple[str, ...]  # empty exactly when auto_release
    policy_hash: str


def split(amount_cents: int, release_rate_pct: int) -> tuple[int, int]:
    """(released, refunded): release = floor(amount * rate / 100), refund = the rest."""
    if amount_cents < 0 or not 0 <= release_rate_pct <= 100:
        raise ValueError(f"amount must be >= 0 and the rate 0..100, got {amount_cents}, {release_rate_pct}")
    released = amount_cents * release_rate_pct // 100
    return released, amount_cents - released


def _evidence_reasons(policy: SettlementPolicy, evidence: dict[str, Any] | None) -> list[str]:
    required = policy.rules.metering_pricing_evidence
    if required is None or not required.required:
        return []
    reasons = []
    for part in EVIDENCE_PARTS:
        expected = getattr(required, f"{part}_hash")
        got = (evidence or {}).get(f"{part}_hash")
        if got is None:
            reasons.append(f"metering_pricing_{part}_missing")
        elif expected is not None and got != expected:
            reasons.append(f"metering_pricing_{part}_mismatch")
    return reasons


def evaluate(
    policy: SettlementPolicy | dict[str, Any],
    verification_status: str,
    amount: int,
    *,
    verification_method: VerificationMethod | dict[str, Any] | None = None,
    evidence: dict[str, Any] | None = None,
) -> Decision:
    """The decision of `policy` (a SettlementPolicy.v1, parsed or as stored) for a run verified
    `verification_status` (green, amber, red) settling `amount` minor units."""
    if not isinstance(policy, SettlementPolicy):
        policy = SettlementPolicy.model_validate(policy)
    if not isinstance(verification_method, VerificationMethod):
        verification_method = VerificationMethod.model_validate(verification_method or {})
    if verification_status not in STATUSES:
        raise ValueError(f"verification_status must be one of {STATUSES}, got {verification_status!r}")
    rules = policy.rules
    rate = getattr(rules, f"{verification_status}_release_rate_pct")
    released, refunded = split(amount, rate)
    reasons = []
    if policy.mode == "manual-review":
        reasons.append("policy_mode_manual_review")
    if rules.require_deterministic_verification and verification_method.mode != "deterministic":
        reasons.append("verification_method_not_deterministic")
    if rules.max_auto_release_amount_cents is not None and amount > rules.max_auto_release_amount_cents:
        reasons.append("amount_exceeds_auto_release_limit")
    if not getattr(rules, f"auto_release_on_{verification_status}"):
        reasons.append(f"auto_release_disabled_for_{verification_status}")
    reasons += _evidence_reasons(policy, evidence)
    return Decision(
        decision="manual_review" if reasons else "auto_release",
        verification_status=verification_status,
        release_rate_pct=rate,
        released_amount_cents=released,
        refunded_amount_cents=refunded,
        reasons=tuple(reasons),
        policy_hash=document_hash(policy),
    )
