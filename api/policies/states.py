"""The rollout's stages and the moves its history records (settld-behaviour.md §6.3).

A tenant's rollout has three slots: `draft` (a version selected for review), `canary` (a version and the
percent of runs it gets) and `active` (what every other run gets). A move sets or clears one slot; each is
a history row with one of the actions below. `resolve` reads `canary` and `active` only.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    draft = "draft"
    canary = "canary"
    active = "active"


class AssignedStage(StrEnum):
    """The stage a run was assigned under: the canary or the active version."""

    canary = "canary"
    active = "active"


class RolloutAction(StrEnum):
    active_initialized = "active_initialized"  # the tenant's first version became active
    draft_selected = "draft_selected"
    draft_cleared = "draft_cleared"
    canary_updated = "canary_updated"
    canary_cleared = "canary_cleared"
    active_promoted = "active_promoted"
    active_confirmed = "active_confirmed"  # the active version re-promoted: nothing moved
    active_rollback = "active_rollback"
    rollback_noop = "rollback_noop"


DEFAULT_CANARY_PERCENT = 10
