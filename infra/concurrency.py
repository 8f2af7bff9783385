"""Each action's SQS event source maximum concurrency, now that the quota budget does the pacing.

Cognito's request-rate quotas are account-wide per Region and per category (catalog.QuotaCategory): all the
actions of a category share one budget of R requests per second (R from the catalog, or from context
`quotaOverrides`). Every worker books each Cognito call in that budget, a DynamoDB table shared by the
category's functions (functions/cognito_workers/budget.py), so the sum of their calls stays under R whatever
their concurrency. The event source mapping's `maximumConcurrency` (C) no longer has to pace anything: it
only has to let the category's functions reach R.

One instance works through its batch one record at a time; with t the assumed milliseconds per record
(context `assumedRecordMillis`), it makes at most r = 1000 / t Cognito calls per second. So that any one
action of a category can use the whole budget when it is the only one loaded (a burst of leavers' disables,
a merger's intake):

    C = ceil(R / r)        within Lambda's bounds: at least 2, at most 1000

When several actions of a category are loaded at once, their instances together can ask for more than R;
the surplus waits in the budget (within its invocation, billed as Lambda duration: docs/deploy.md, "The
shared quota budget"). Before the budget, C was each action's equal share floor(R / n / r), and Lambda's
minimum of 2 let UserUpdate's eight actions reach 64 calls/s against its 25.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from cognito_workers.catalog import ACTIONS, ActionSpec, QuotaCategory

MIN_MAXIMUM_CONCURRENCY = 2
MAX_MAXIMUM_CONCURRENCY = 1000


@dataclass(frozen=True, kw_only=True)
class CategoryBudget:
    """What one quota category allows, and how its actions share it."""

    category: QuotaCategory
    requests_per_second: int
    actions: int
    calls_per_second_per_instance: float

    @property
    def maximum_concurrency(self) -> int:
        """Each of the category's actions gets this maximum concurrency: enough to use the budget alone."""
        return _within_lambda_bounds(self.requests_per_second / self.calls_per_second_per_instance)

    def lock_out_lane_concurrency(self, lock_out_calls: int) -> int:
        """The planner's lock-out lane's maximum concurrency: enough for its transitions to keep up with the
        lock-out calls using this whole budget. A leaver's lock-out is one HR event and `lock_out_calls`
        outcomes, each a transition of the lane, so R lock-out calls a second bring R * (1 + calls) / calls
        transitions; an instance runs r records a second, as a worker does."""
        transitions = self.requests_per_second * (1 + lock_out_calls) / lock_out_calls
        return _within_lambda_bounds(transitions / self.calls_per_second_per_instance)

    @property
    def instances(self) -> int:
        """How many instances the category's functions can run together (the surplus over R / r waits)."""
        return self.actions * self.maximum_concurrency


def _within_lambda_bounds(instances: float) -> int:
    return min(MAX_MAXIMUM_CONCURRENCY, max(MIN_MAXIMUM_CONCURRENCY, math.ceil(instances)))


def calls_per_second_per_instance(assumed_record_millis: int) -> float:
    return 1000 / assumed_record_millis


def category_budgets(
    *,
    assumed_record_millis: int,
    quota_overrides: dict[str, int],
    actions: tuple[ActionSpec, ...] = ACTIONS,
) -> dict[QuotaCategory, CategoryBudget]:
    """The budget of every category that has at least one action in the catalog."""
    counts = Counter(spec.quota for spec in actions)
    rate = calls_per_second_per_instance(assumed_record_millis)
    return {
        category: CategoryBudget(
            category=category,
            requests_per_second=quota_overrides.get(category.quota_name, category.requests_per_second),
            actions=count,
            calls_per_second_per_instance=rate,
        )
        for category, count in counts.items()
    }
