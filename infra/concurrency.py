"""Pacing the actions under Cognito's quotas with each SQS event source's maximum concurrency.

Cognito's request-rate quotas are account-wide per Region and per category (catalog.QuotaCategory): all
the actions of a category share one budget of R requests per second. The SQS event source mapping of an
action caps how many instances of its function run at once (`maximumConcurrency`, C). One instance works
through its batch one record at a time, and a record costs one Cognito call plus the idempotency reads and
writes and the outcome event; with t the assumed milliseconds per record (context `assumedRecordMillis`),
one instance makes at most

    r = 1000 / t   Cognito calls per second,

whatever the batch size (a larger batch only means fewer invocations). For a category with n actions
sharing R equally (R from the catalog, or from context `quotaOverrides`):

    C = max(2, floor(R / n / r))        (and at most 1000, Lambda's upper bound)

so the category's functions together make at most  sum(C) * r <= R  calls per second. The exception is
where Lambda's smallest allowed maximum concurrency, 2, binds: when 2 * n * r > R, each action gets 2 and
the category can reach 2 * n * r. With the defaults (t = 250 ms, r = 4/s) that is UserUpdate only: its n
actions at 2 instances each can make 8 * n calls/s against a fixed 25/s. Cognito then answers
TooManyRequestsException, which the workers treat as retryable (the record returns to its queue and is
retried after the visibility timeout, up to maxReceiveCount, then dead-lettered and alarmed). A burst of
leavers is the case where this matters; the lever that would close the gap is per-instance pacing inside
the worker, not anything the event source mapping offers.
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
        """Each of the category's actions gets this maximum concurrency."""
        share = self.requests_per_second / self.actions / self.calls_per_second_per_instance
        return min(MAX_MAXIMUM_CONCURRENCY, max(MIN_MAXIMUM_CONCURRENCY, math.floor(share)))

    @property
    def peak_calls_per_second(self) -> float:
        """What the category's functions can make together when every instance is busy."""
        return self.actions * self.maximum_concurrency * self.calls_per_second_per_instance

    @property
    def floor_bound(self) -> bool:
        """True where Lambda's minimum maximum concurrency (2) lets the category exceed its quota."""
        return self.peak_calls_per_second > self.requests_per_second


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
