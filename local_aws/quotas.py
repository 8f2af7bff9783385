"""Cognito's request-rate quotas, enforced by the local server as Cognito does: account-wide, one token
bucket per quota category (the catalog's, from Cognito's quota documentation), refilled at the
category's requests per second, holding one second's worth. A call that finds its bucket empty answers
HTTP 400 TooManyRequestsException. The calls let through are also counted per wall-clock second, so that a
test or a benchmark can read the busiest second of each category.

At a scale below 1 (a local pipeline slower than Cognito), the stack's budget must pace at the same rates:
`scaled_rates` gives them as the `quotaOverrides` context of a local deployment (provision(quota_scale=)).

Only the catalog's operations are metered, each in its catalog category: the actions' and the reconciler's
reads of the pool (ListUsers, ListUsersInGroup); set-up calls (CreateUserPool, CreateGroup, ListGroups) are
not, so a test's own set-up never spends the workers' quota.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cognito_workers.catalog import ACTIONS, RECONCILER, QuotaCategory
from cognito_workers.pacing import TokenBucket

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# The actions' operations and the reconciler's reads of the pool.
CATEGORY_OF_OPERATION: dict[str, QuotaCategory] = {
    **{spec.name: spec.quota for spec in ACTIONS},
    **RECONCILER.reads,
}


@dataclass(frozen=True)
class QuotaScale:
    """The share of Cognito's rates the local quotas run at: `default` for every category but those named in
    `categories` (by quota name), each in (0, 1]. A benchmark that measures one category at Cognito's own
    rate keeps the others' traffic slow enough for the emulator."""

    default: float = 1.0
    categories: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.categories) - {category.quota_name for category in QuotaCategory})
        if unknown:
            raise ValueError(f"scale: no quota category {', '.join(unknown)}")
        if not all(0 < scale <= 1 for scale in (self.default, *self.categories.values())):
            raise ValueError("scale: above 0, at most 1")

    @classmethod
    def of(cls, scale: float | QuotaScale) -> QuotaScale:
        return scale if isinstance(scale, QuotaScale) else cls(scale)

    def rate(self, category: QuotaCategory) -> float:
        return category.requests_per_second * self.categories.get(category.quota_name, self.default)

    def as_json(self) -> dict[str, Any]:
        return {"scale": self.default, "categories": dict(self.categories)}


def scaled_rates(scale: float | QuotaScale) -> dict[str, int]:
    """Every category's requests per second at `scale`, as quotaOverrides; the budget books whole calls per
    second, so each scaled rate must be a whole number (0.2 gives 10, 24, 6, 24, 5, 10, 5 and 3)."""
    scales = QuotaScale.of(scale)
    rates = {category.quota_name: scales.rate(category) for category in QuotaCategory}
    fractional = sorted(name for name, rate in rates.items() if abs(rate - round(rate)) > 1e-9 or rate < 1)
    if fractional:
        raise ValueError(f"scale {scale}: not a whole number of requests/s for {', '.join(fractional)}")
    return {name: round(rate) for name, rate in rates.items()}


class QuotaEnforcer:
    """WSGI middleware in front of moto: meters Cognito calls by category while `enforced` is set, and
    counts what it let through and what it throttled."""

    def __init__(self, app: WsgiApp, clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._clock = clock
        self._lock = threading.Lock()
        self.enforced = False
        self._scale = QuotaScale()
        self._buckets: dict[QuotaCategory, TokenBucket] = {}
        self.allowed: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self._allowed_per_second: Counter[tuple[str, int]] = Counter()

    def enforce(self, enforced: bool, scale: float | QuotaScale = 1.0) -> None:
        """Switch enforcement, every category at its `scale` times its rate (below 1: quotas that bind a local
        pipeline slower than Cognito); every switch starts from full buckets and zero counts."""
        scales = QuotaScale.of(scale)
        with self._lock:
            self.enforced = enforced
            self._buckets = {
                category: TokenBucket(scales.rate(category), self._clock) for category in QuotaCategory
            }
            self._scale = scales
            self.allowed.clear()
            self.throttled.clear()
            self._allowed_per_second.clear()

    def report(self) -> dict[str, Any]:
        with self._lock:
            per_second: dict[str, dict[str, int]] = {}
            for (name, second), count in self._allowed_per_second.items():
                per_second.setdefault(name, {})[str(second)] = count
            return {
                "enforced": self.enforced,
                "scale": self._scale.default,
                "allowed": dict(self.allowed),
                "throttled": dict(self.throttled),
                "allowed_per_second": per_second,
            }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        category = self._category(environ)
        if category is None:
            return self._app(environ, start_response)
        with self._lock:
            admitted = self._buckets[category].take()
            (self.allowed if admitted else self.throttled)[category.quota_name] += 1
            if admitted:
                self._allowed_per_second[category.quota_name, int(time.time())] += 1
        if admitted:
            return self._app(environ, start_response)
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        payload = json.dumps(
            {
                "__type": "TooManyRequestsException",
                "message": f"Rate exceeded for the {category.quota_name} category "
                f"({self._scale.rate(category):g} requests per second)",
            }
        ).encode()
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(payload))),
                ("x-amzn-ErrorType", "TooManyRequestsException"),
            ],
        )
        return [payload]

    def _category(self, environ: dict[str, Any]) -> QuotaCategory | None:
        if not self.enforced:
            return None
        target: str = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(COGNITO_TARGET_PREFIX):
            return None
        return CATEGORY_OF_OPERATION.get(target.removeprefix(COGNITO_TARGET_PREFIX))
