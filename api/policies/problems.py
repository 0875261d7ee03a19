"""The problem codes of settlement policies (one class each: api/core/errors.py). The rollout codes are the
reference's (settld-behaviour.md §6.3); bad input is 422 as everywhere in this API, not the reference's 400."""

from __future__ import annotations

from api.core.errors import Problem


class PolicyInvalid(Problem):
    status, code = 422, "POLICY_INVALID"
    title = "The policy or verification method breaks a rule; `errors` names each field path and rule."


class PolicyVersionConflict(Problem):
    status, code = 409, "POLICY_VERSION_CONFLICT"
    title = "This policy version exists with other hashes; versions are immutable, post a new version."
    members = ("policy_id", "policy_version", "policy_hash", "verification_method_hash")


class PolicyVersionQuota(Problem):
    status, code = 403, "POLICY_VERSION_QUOTA"
    title = "The tenant has as many policy versions as its plan allows."
    members = ("plan", "max_policy_versions", "policy_versions")


class PolicyNotFound(Problem):
    status, code, title = 404, "POLICY_NOT_FOUND", "No such policy version for this tenant."


class PresetNotFound(Problem):
    status, code, title = 404, "PRESET_NOT_FOUND", "No settlement policy preset of this id."


class InvalidStage(Problem):
    status, code, title = 422, "INVALID_STAGE", "The stage is not one of draft, canary, active."


class InvalidPolicyReference(Problem):
    status, code = 422, "INVALID_POLICY_REFERENCE"
    title = (
        "The policy reference needs policy_id and policy_version (and a policy_hash that matches, if sent)."
    )


class InvalidRolloutPercent(Problem):
    status, code = 422, "INVALID_ROLLOUT_PERCENT"
    title = "rollout_percent must be an integer 1..100 (canary only)."


class ActivePolicyNotSet(Problem):
    status, code, title = 409, "ACTIVE_POLICY_NOT_SET", "The tenant has no active settlement policy."


class RollbackTargetNotFound(Problem):
    status, code = 409, "ROLLBACK_TARGET_NOT_FOUND"
    title = "No earlier active policy to roll back to (none in the history differs from the current one)."


class DiffPolicyReferenceRequired(Problem):
    status, code = 409, "DIFF_POLICY_REFERENCE_REQUIRED"
    title = "Name both versions to compare (or have an active policy and a draft)."


class FromPolicyNotFound(Problem):
    status, code, title = 404, "FROM_POLICY_NOT_FOUND", "The `from` policy version does not exist."


class ToPolicyNotFound(Problem):
    status, code, title = 404, "TO_POLICY_NOT_FOUND", "The `to` policy version does not exist."
