"""SettlementPolicy.v1 and VerificationMethod.v1: the policy documents, their rules, defaults and bounds,
their normalised form and hashes, and the three presets (docs/DECISIONLOG.md, "Settlement policies").

A document is validated by pydantic; every rule it breaks is one entry of the 422 POLICY_INVALID problem
with its field path (`policy.rules.green_release_rate_pct`) and the rule's code (pydantic's error type:
`less_than_equal`, `literal_error`, `extra_forbidden`, ...). The normalised document is the validated one
with every default written out; `policy_hash = sha256(canonical_json(normalised policy))` through the
kernel's one canonical JSON (`settld.core.canonical_hash`), and it includes `policy_version`, so the same
rules under two versions hash differently (as the reference does).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from api.policies.problems import PolicyInvalid
from settld.core import canonical_hash

POLICY_SCHEMA = "SettlementPolicy.v1"
METHOD_SCHEMA = "VerificationMethod.v1"
Pct = Annotated[StrictInt, Field(ge=0, le=100)]
Hash = Annotated[str, Field(min_length=1, max_length=128)]
Text = Annotated[str, Field(max_length=500)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeteringPricingEvidence(_Strict):
    required: StrictBool = False
    pricing_matrix_hash: Hash | None = None
    metering_report_hash: Hash | None = None
    invoice_claim_hash: Hash | None = None


class PolicyRules(_Strict):
    require_deterministic_verification: StrictBool = False
    auto_release_on_green: StrictBool = True
    auto_release_on_amber: StrictBool = False
    auto_release_on_red: StrictBool = False
    green_release_rate_pct: Pct = 100
    amber_release_rate_pct: Pct = 50
    red_release_rate_pct: Pct = 0
    max_auto_release_amount_cents: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)] | None = None
    dispute_window_hours: Annotated[StrictInt, Field(ge=1, le=8760)] | None = None
    manual_reason: Text | None = None
    metering_pricing_evidence: MeteringPricingEvidence | None = None


class SettlementPolicy(_Strict):
    """SettlementPolicy.v1."""

    schema_version: Literal["SettlementPolicy.v1"] = POLICY_SCHEMA
    policy_version: Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]
    mode: Literal["automatic", "manual-review"] = "automatic"
    rules: PolicyRules = PolicyRules()


class VerificationMethod(_Strict):
    """VerificationMethod.v1."""

    schema_version: Literal["VerificationMethod.v1"] = METHOD_SCHEMA
    mode: Literal["deterministic", "attested", "discretionary"] = "deterministic"
    source: Text | None = None
    attestor: Text | None = None
    notes: Text | None = None
    metering_pricing_evidence: MeteringPricingEvidence | None = None


def _problems(error: ValidationError, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "path": ".".join([prefix, *(str(part) for part in item["loc"])]),
            "loc": [prefix, *item["loc"]],
            "type": item["type"],
            "msg": item["msg"],
        }
        for item in error.errors(include_url=False, include_input=False)
    ]


def validate_documents(
    policy: Any, verification_method: Any, *, policy_version: int
) -> tuple[SettlementPolicy, VerificationMethod]:
    """The validated documents, or PolicyInvalid naming every broken rule of both at once.

    `policy.policy_version` may be omitted (it becomes the registry's version); stated, it must be it."""
    errors: list[dict[str, Any]] = []
    parsed_policy = parsed_method = None
    if not isinstance(policy, dict):
        errors.append({"path": "policy", "loc": ["policy"], "type": "dict_type", "msg": "must be an object"})
    else:
        stated = policy.get("policy_version", policy_version)
        if stated != policy_version:
            errors.append({"path": "policy.policy_version", "loc": ["policy", "policy_version"],
                           "type": "policy_version_mismatch",
                           "msg": f"must be the registry version {policy_version}"})  # fmt: skip
        try:
            parsed_policy = SettlementPolicy.model_validate({**policy, "policy_version": policy_version})
        except ValidationError as error:
            errors.extend(_problems(error, "policy"))
    try:
        parsed_method = VerificationMethod.model_validate(verification_method or {})
    except ValidationError as error:
        errors.extend(_problems(error, "verification_method"))
    if errors or parsed_policy is None or parsed_method is None:
        paths = ", ".join(entry["path"] for entry in errors)
        raise PolicyInvalid(f"The policy breaks {len(errors)} rule(s): {paths}.", errors=errors)
    return parsed_policy, parsed_method


def normalised(document: BaseModel) -> dict[str, Any]:
    """Every field written out, defaults included: the form that is stored and hashed."""
    return document.model_dump(mode="json")


def document_hash(document: BaseModel) -> str:
    return canonical_hash(normalised(document))


def _preset(policy_id: str, description: str, mode: str, rates: tuple[int, int, int], cap: int,
            window_hours: int) -> dict[str, Any]:  # fmt: skip
    green, amber, red = rates
    return {
        "policy_id": policy_id,
        "description": description,
        "policy": {
            "mode": mode,
            "rules": {
                "auto_release_on_green": True,
                "auto_release_on_amber": amber > 0,
                "auto_release_on_red": False,
                "green_release_rate_pct": green,
                "amber_release_rate_pct": amber,
                "red_release_rate_pct": red,
                "max_auto_release_amount_cents": cap,
                "dispute_window_hours": window_hours,
            },
        },  # fmt: skip
        "verification_method": {"mode": "deterministic"},
    }


# The reference's three presets (settld-behaviour.md §6.2), by preset id.
PRESETS: dict[str, dict[str, Any]] = {
    "balanced_guardrails_v1": _preset(
        "market.preset.balanced-v1", "Balanced guardrails: 90/40/0 %, cap 1,500.00, 72 h window.",
        "automatic", (90, 40, 0), 150_000, 72),
    "high_autonomy_low_risk_v1": _preset(
        "market.preset.high-autonomy-v1", "High autonomy, low risk: 100/60/0 %, cap 3,000.00, 24 h window.",
        "automatic", (100, 60, 0), 300_000, 24),
    "manual_review_high_risk_v1": _preset(
        "market.preset.manual-review-v1", "Manual review, high risk: 70/0/0 %, cap 500.00, 168 h window.",
        "manual-review", (70, 0, 0), 50_000, 168),
}  # fmt: skip
