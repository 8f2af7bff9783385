"""What a function loads when Lambda imports its handler: its own action's params model and no other's, and
the X-Ray SDK only where the stack's traceAwsCalls asks for subsegments of the AWS calls. Each import runs in
a fresh interpreter with a Lambda-like environment, where Powertools' Tracer would be live."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cognito_workers.catalog import ACTIONS, ACTIONS_BY_NAME, PLANNER
from cognito_workers.observability import TRACE_AWS_CALLS

REPO = Path(__file__).resolve().parents[2]
DISABLE_USER, INITIATE_AUTH = ACTIONS_BY_NAME["AdminDisableUser"], ACTIONS_BY_NAME["AdminInitiateAuth"]
# Powertools' batch utility, the event source data classes its package imports, and asyncio for its async
# processor: about 25 ms of a cold start that a function's SQS records do not need.
_BATCH_UTILITY_MODULES = (
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.data_classes",
    "asyncio",
)
# Printed by the fresh interpreter after the handler's import: what it loaded, and whether the X-Ray SDK's
# botocore patch (which sets this flag on botocore.client) was applied.
_REPORT_AFTER_IMPORT = """
import json, sys
import botocore.client
import {module}
print(json.dumps({{
    "modules": sorted(sys.modules),
    "botocore_patched": getattr(botocore.client, "_xray_enabled", False),
}}))
"""


def import_in_fresh_lambda(handler_module: str, trace_aws_calls: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join((str(REPO / "functions"), str(REPO))),
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "cold-path",
        "LAMBDA_TASK_ROOT": str(REPO / "functions"),
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        TRACE_AWS_CALLS: trace_aws_calls,
    }
    return subprocess.run(
        [sys.executable, "-c", _REPORT_AFTER_IMPORT.format(module=handler_module)],
        env=environment,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def loaded_by(handler_module: str, trace_aws_calls: str) -> dict[str, Any]:
    completed = import_in_fresh_lambda(handler_module, trace_aws_calls)
    assert completed.returncode == 0, completed.stderr
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


def action_params_modules(modules: list[str]) -> set[str]:
    every_action = {spec.params_module for spec in ACTIONS}
    return {module for module in modules if module in every_action}


@pytest.mark.parametrize(
    ("handler_module", "own_params"),
    [
        (DISABLE_USER.handler_module, {DISABLE_USER.params_module}),
        (INITIATE_AUTH.handler_module, {INITIATE_AUTH.params_module}),
        (PLANNER.handler_module, set()),
    ],
    ids=["worker", "auth-flow worker", "planner"],
)
def test_a_handler_loads_its_own_params_model_and_no_tracing_sdk_by_default(
    handler_module: str, own_params: set[str]
) -> None:
    # Given a function as the stack deploys it by default, when Lambda imports its handler
    report = loaded_by(handler_module, trace_aws_calls="false")

    # Then the only action params module loaded is its own (the planner's commands are validated by the
    # workers), nothing of the X-Ray SDK is loaded or patched into botocore, and nothing of what Powertools'
    # batch utility would load (the consumer has its own partial-batch loop)
    assert action_params_modules(report["modules"]) == own_params
    assert [module for module in report["modules"] if module.startswith("aws_xray_sdk")] == []
    assert report["botocore_patched"] is False
    assert [module for module in report["modules"] if module.startswith(_BATCH_UTILITY_MODULES)] == []


def test_asking_to_trace_aws_calls_loads_the_xray_sdk_and_patches_botocore() -> None:
    # Given a function deployed with traceAwsCalls, when Lambda imports its handler
    report = loaded_by(DISABLE_USER.handler_module, trace_aws_calls="true")

    # Then the X-Ray SDK is loaded and every botocore call is recorded as a subsegment
    assert "aws_xray_sdk.core" in report["modules"]
    assert report["botocore_patched"] is True


def test_a_mistyped_tracing_setting_fails_the_import_with_its_name() -> None:
    completed = import_in_fresh_lambda(DISABLE_USER.handler_module, "yes")

    assert completed.returncode != 0
    assert "TRACE_AWS_CALLS must be true or false, not 'yes'" in completed.stderr
