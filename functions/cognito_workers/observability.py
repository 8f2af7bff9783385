"""Logger, tracer and metrics, configured once for every worker (Powertools reads POWERTOOLS_* variables).

Tracing: Lambda's active tracing (the stack's) records each invocation's segment, and botocore sends the
invocation's trace header with every AWS call, with no code here. TRACE_AWS_CALLS=true adds Powertools'
Tracer: a subsegment per invocation (ColdStart and Service annotations) and one per AWS call. It loads the
X-Ray SDK at every cold start, so it is off unless asked for (cdk.json's traceAwsCalls).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "cognito-workers")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CognitoLifecycle")
TRACE_AWS_CALLS = "TRACE_AWS_CALLS"

logger = Logger(service=SERVICE)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def traces_aws_calls() -> bool:
    """Whether this function was deployed to trace its AWS calls (cdk.json's traceAwsCalls)."""
    value = os.environ.get(TRACE_AWS_CALLS, "false")
    if value not in ("true", "false"):
        raise RuntimeError(f"invalid environment: {TRACE_AWS_CALLS} must be true or false, not {value!r}")
    return value == "true"


@functools.cache
def _aws_call_tracer() -> Tracer:
    # The functions call AWS through botocore only (httplib under it). Patching everything X-Ray supports
    # would import whatever of requests, sqlite3, httpx... happens to be installed, at every cold start.
    return Tracer(service=SERVICE, patch_modules=("botocore", "httplib"))


def traced(handler: Handler) -> Handler:
    """The Lambda handler, with X-Ray subsegments for the invocation and its AWS calls if TRACE_AWS_CALLS asks
    for them; as it is otherwise."""
    if not traces_aws_calls():
        return handler
    return cast(Handler, _aws_call_tracer().capture_lambda_handler(handler, capture_response=False))


class ActionMetrics:
    """Metrics of one action (or the planner): counts, with the action as dimension.

    Ephemeral so that workers sharing a process (the local runtime, tests) keep their own dimensions. The
    action is added to each metric set, not set as a default dimension: the Powertools release the pinned
    layer carries (3.23.0) warns about every default dimension at every flush, a log line per invocation
    (aws-powertools/powertools-lambda-python issue 8402)."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.emf = EphemeralMetrics(namespace=METRICS_NAMESPACE, service=SERVICE)

    def count(self, name: str) -> None:
        self._add(name, MetricUnit.Count, 1)

    def seconds(self, name: str, value: float) -> None:
        self._add(name, MetricUnit.Seconds, value)

    def _add(self, name: str, unit: MetricUnit, value: float) -> None:
        if "action" not in self.emf.dimension_set:
            self.emf.add_dimension(name="action", value=self.action)
        self.emf.add_metric(name=name, unit=unit, value=value)
