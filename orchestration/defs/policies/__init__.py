"""Settlement policies: the rollout outcomes (canary against active) as a table in the UI."""

import dagster as dg

from orchestration.defs.policies.assets import policy_rollout_outcomes

defs = dg.Definitions(assets=[policy_rollout_outcomes])
