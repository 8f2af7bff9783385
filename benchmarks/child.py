"""The parent side of every measurement: a fresh Python process with a function's deployed environment runs
one probe of benchmarks/probes.py and answers in JSON."""

from __future__ import annotations

import functools
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cognito_workers.catalog import ACTIONS, PLANNER
from local_aws.synth import stack_template
from local_aws.template import Physical, Resolver, resources_of_type

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS = REPO / "functions"

REGION = "us-east-1"
# What the template's references resolve to for a measurement: names, not resources (nothing is called).
_BENCH_POOL_ID = f"{REGION}_Bench01"
# What the Lambda runtime sets, as far as Powertools and the X-Ray SDK read it: they see a Lambda function
# with active tracing and a sampled invocation (the costlier case). The X-Ray daemon address is a local port
# where nothing listens, so trace segments go nowhere.
_LAMBDA_RUNTIME = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "LAMBDA_TASK_ROOT": str(FUNCTIONS),
    "_X_AMZN_TRACE_ID": "Root=1-6790a000-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
}


@functools.cache
def _template() -> dict[str, Any]:
    """Read once per benchmark run: every probe of every function starts from it."""
    return stack_template()


def function_environment(handler_module: str) -> dict[str, str]:
    """The environment of the function whose handler is `handler_module`, as the synthesized template
    declares it (references resolved to bench names), with what the Lambda runtime adds."""
    template = _template()
    (function,) = [
        resource["Properties"]
        for _, resource in resources_of_type(template, "AWS::Lambda::Function")
        if resource["Properties"]["Handler"] == f"{handler_module}.handler"
    ]
    pseudo = {"AWS::Region": REGION, "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}

    def bench_resource(logical_id: str) -> Physical:
        pool = template["Resources"][logical_id]["Type"] == "AWS::Cognito::UserPool"
        arn = f"arn:aws:bench:{REGION}:123456789012:bench-{logical_id}"
        return Physical(ref=_BENCH_POOL_ID if pool else f"bench-{logical_id}", attributes={"Arn": arn})

    variables = Resolver(template, pseudo, bench_resource).resolve(
        function["Environment"]["Variables"], handler_module, "Environment"
    )
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join((str(FUNCTIONS), str(REPO))),
        "AWS_LAMBDA_FUNCTION_NAME": "bench-" + short_name(handler_module).replace("_", "-"),
        **_LAMBDA_RUNTIME,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function["MemorySize"]),
        **{name: str(value) for name, value in variables.items()},
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
