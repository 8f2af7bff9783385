"""Logger, tracer and metrics, configured once for every worker (Powertools reads POWERTOOLS_* variables)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "cognito-workers")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CognitoLifecycle")

logger = Logger(service=SERVICE)
# The functions call AWS through botocore only (httplib under it). Patching everything X-Ray supports would
# import whatever of requests, sqlite3, httpx... happens to be installed, at every cold start.
tracer = Tracer(service=SERVICE, patch_modules=("botocore", "httplib"))


def action_metrics(action: str) -> EphemeralMetrics:
    """Metrics of one action: one count per outcome type, with the action as dimension.

    Ephemeral so that workers sharing a process (the local runtime, tests) keep their own dimensions.
    """
    metrics = EphemeralMetrics(namespace=METRICS_NAMESPACE, service=SERVICE)
    metrics.set_default_dimensions(action=action)
    return metrics
