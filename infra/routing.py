"""Which events the bus routes to which queue: the EventBridge patterns of the rules.

CDK-free (it imports only the catalog and the contracts), so that the stack and the local AWS
(local_aws/deployment.py) build the same patterns from one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args

from cognito_workers.catalog import PLANNER, RECONCILER
from cognito_workers.contracts import OutcomeType

# The outcome event detail-types of a command, in the contract's order.
STEP_OUTCOME_TYPES: tuple[str, ...] = get_args(OutcomeType)
LEAVER = "EmployeeOffboarded"


def action_command_pattern(action: str, *, command_sources: Sequence[str]) -> dict[str, Any]:
    """An action's commands: detail-type = the action, from one of the allowed command sources."""
    return {"source": list(command_sources), "detail-type": [action]}


def planner_input_patterns(
    *, hr_sources: Sequence[str], outcome_source: str, operator_source: str, lock_out_lane: bool
) -> dict[str, dict[str, Any]]:
    """What reaches the lifecycle planner's queue, by input name:

    - `hr-events`: the HR system's lifecycle events (PLANNER.event_types) from the HR sources, and the
      reconciler's, which repair drift with the same events;
    - `step-outcomes`: the outcome events of the planner's own steps (their idempotency keys start with
      PLANNER.step_key_prefix), so that it can sequence a person's next step;
    - `release`: the operator's release of the deprovisioning hold.

    With the lock-out lane, leavers and the outcomes of lock-out steps go to the lane instead
    (lock_out_lane_patterns).
    """
    event_types = [kind for kind in PLANNER.event_types if not (lock_out_lane and kind == LEAVER)]
    step_outcomes = _step_outcomes(outcome_source)
    if lock_out_lane:
        step_outcomes["detail"]["action"] = [{"anything-but": list(PLANNER.lock_out_actions)}]
    return {
        "hr-events": {"source": [*hr_sources, RECONCILER.event_source], "detail-type": event_types},
        "step-outcomes": step_outcomes,
        "release": {"source": [operator_source], "detail-type": [PLANNER.release_detail_type]},
    }


def lock_out_lane_patterns(*, hr_sources: Sequence[str], outcome_source: str) -> dict[str, dict[str, Any]]:
    """What reaches the planner's lock-out lane, by input name: `leavers` (the leaver events of the HR system
    and of the reconciler) and `lock-out-outcomes` (the outcomes of the planner's lock-out steps)."""
    lock_out_outcomes = _step_outcomes(outcome_source)
    lock_out_outcomes["detail"]["action"] = list(PLANNER.lock_out_actions)
    return {
        "leavers": {"source": [*hr_sources, RECONCILER.event_source], "detail-type": [LEAVER]},
        "lock-out-outcomes": lock_out_outcomes,
    }


def _step_outcomes(outcome_source: str) -> dict[str, Any]:
    return {
        "source": [outcome_source],
        "detail-type": list(STEP_OUTCOME_TYPES),
        "detail": {"idempotencyKey": [{"prefix": PLANNER.step_key_prefix}]},
    }
