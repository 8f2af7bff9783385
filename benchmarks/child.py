"""The parent side of every measurement: a fresh Python process with a function's deployed environment runs
one probe of benchmarks/probes.py and answers in JSON."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cognito_workers.catalog import ACTIONS, PLANNER

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS = REPO / "functions"

# What infra/consumer.py and cdk.json put in every function's environment (infra/ pulls in aws_cdk, hence
# copied here).
_POWERTOOLS = {
    "POWERTOOLS_SERVICE_NAME": "cognito-workers",
    "POWERTOOLS_METRICS_NAMESPACE": "CognitoLifecycle",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
_CONSUMER = {
    "USER_POOL_ID": "us-east-1_Bench01",
    "EVENT_BUS_NAME": "bench-bus",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-dlq",
    "MAX_RECEIVE_COUNT": "5",
    "OUTCOME_EVENT_SOURCE": "cognito.workers",
    "DEADLINE_MARGIN_MS": "10000",
}
_WORKER = {"IDEMPOTENCY_TABLE_NAME": "bench-idempotency", "IDEMPOTENCY_EXPIRY_SECONDS": "604800"}
_PLANNER = {
    "LIFECYCLE_TABLE_NAME": "bench-lifecycle",
    "DELETE_QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:bench-delete",
    "DELETE_DEAD_LETTER_QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:bench-delete-dlq",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/bench-scheduler",
    "SCHEDULE_GROUP_NAME": "bench",
    "LEAVER_THRESHOLD": "50",
    "LEAVER_WINDOW_MINUTES": "60",
}
# What the Lambda runtime sets, as far as Powertools and the X-Ray SDK read it: they see a Lambda function
# with active tracing and a sampled invocation (the costlier case). The X-Ray daemon address is a local port
# where nothing listens, so trace segments go nowhere.
_LAMBDA_RUNTIME = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "LAMBDA_TASK_ROOT": str(FUNCTIONS),
    "_X_AMZN_TRACE_ID": "Root=1-6790a000-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
}


def function_environment(handler_module: str) -> dict[str, str]:
    """The environment of the function whose handler is `handler_module`, as the stack deploys it."""
    settings = _PLANNER if handler_module == PLANNER.handler_module else _WORKER
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join((str(FUNCTIONS), str(REPO))),
        "AWS_LAMBDA_FUNCTION_NAME": "bench-" + short_name(handler_module).replace("_", "-"),
        **_LAMBDA_RUNTIME,
        **_CONSUMER,
        **settings,
        **_POWERTOOLS,
    }


def run_probe(
    probe: str, handler_module: str, *args: str, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run `probe` of benchmarks/probes.py in a fresh process with the function's environment (and `env`)."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.probes", probe, handler_module, *args],
        env={**function_environment(handler_module), **(env or {})},
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"probe {probe} {handler_module} failed:\n{completed.stderr[-4000:]}")
    answer: dict[str, Any] = json.loads(completed.stdout)
    return answer


def handler_modules(*, smoke: bool) -> list[str]:
    """Every function's handler module (smoke: one worker and the planner)."""
    workers = [spec.handler_module for spec in ACTIONS]
    return [*(workers[:1] if smoke else workers), PLANNER.handler_module]


def short_name(handler_module: str) -> str:
    return handler_module.rsplit(".", 1)[-1]


def interleaved(
    runs: Mapping[str, Callable[[], float]], *, rounds: int, seed: int = 6
) -> dict[str, list[float]]:
    """`rounds` samples of each run, every round in a new random order, so that the load of a shared machine
    falls on all of them alike."""
    order = random.Random(seed)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name in order.sample(list(runs), len(runs)):
            samples[name].append(runs[name]())
    return samples
