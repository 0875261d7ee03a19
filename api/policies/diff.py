"""TenantSettlementPolicyDiff.v1: two versions compared path by path (settld-behaviour.md §6.3).

Each version's `{policy_id, policy_version, description, verification_method, policy}` is flattened into
dotted paths (object keys sorted; arrays and scalars are leaves, so a changed list is one `changed` path);
every path of either side is `added`, `removed`, `changed` or `unchanged`. The summary counts all paths;
`changes` lists them in path order, `unchanged` ones only when asked, at most `limit` (1..2000).
"""

from __future__ import annotations

from typing import Any

from api.policies.models import PolicyVersion

MISSING = object()


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key in sorted(value):
            flat.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _document(version: PolicyVersion) -> dict[str, Any]:
    return {"policy_id": version.policy_id, "policy_version": version.policy_version,
            "description": version.description, "verification_method": version.verification_method,
            "policy": version.policy}  # fmt: skip


def diff_documents(before: dict[str, Any], after: dict[str, Any], *, include_unchanged: bool,
                   limit: int) -> dict[str, Any]:  # fmt: skip
    old, new = flatten(before), flatten(after)
    counts = {"added": 0, "removed": 0, "changed": 0, "unchanged": 0}
    changes = []
    for path in sorted(old.keys() | new.keys()):
        from_value, to_value = old.get(path, MISSING), new.get(path, MISSING)
        if from_value is MISSING:
            kind = "added"
        elif to_value is MISSING:
            kind = "removed"
        else:
            kind = "unchanged" if from_value == to_value else "changed"
        counts[kind] += 1
        if kind != "unchanged" or include_unchanged:
            changes.append({"path": path, "kind": kind,
                            "from_value": None if from_value is MISSING else from_value,
                            "to_value": None if to_value is MISSING else to_value})  # fmt: skip
    summary = {"total_paths": sum(counts.values()), **counts, "include_unchanged": include_unchanged}
    return {"summary": summary, "changes": changes[:limit], "limited": len(changes) > limit}


def diff_versions(before: PolicyVersion, after: PolicyVersion, *, include_unchanged: bool,
                  limit: int) -> dict[str, Any]:  # fmt: skip
    return {
        "schema_version": "TenantSettlementPolicyDiff.v1",
        "from_policy_ref": before.ref,
        "to_policy_ref": after.ref,
        **diff_documents(
            _document(before), _document(after), include_unchanged=include_unchanged, limit=limit
        ),
    }
