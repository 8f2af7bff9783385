"""Logger, tracer and metrics, configured once for every worker (Powertools reads POWERTOOLS_* variables)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "cognito-workers")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CognitoLifecycle")

logger = Logger(service=SERVICE)
# The functions call AWS through botocore only (httplib under it). Patching everything X-Ray supports would
# import whatever of requests, sqlite3, httpx... happens to be installed, at every cold start.
tracer = Tracer(service=SERVICE, patch_modules=("botocore", "httplib"))


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
