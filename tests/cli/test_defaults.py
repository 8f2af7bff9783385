"""The CLI's defaults are the stack's, and importing the CLI loads neither the Lambda runtime nor the local
AWS."""

from __future__ import annotations

import json
import subprocess
import sys

from local_aws.context import cdk_context
from local_aws.deployment import LocalDeployment
from operator_cli import defaults
from operator_cli.app import LOCAL_OUTCOMES_QUEUE


def test_the_cli_defaults_are_the_stacks_names() -> None:
    context = cdk_context()

    assert defaults.PREFIX.stack_value == context["resourcePrefix"]
    assert defaults.STACK_NAME.stack_value == context["stackName"]
    assert defaults.HR_SOURCE.stack_value == context["hrEventSources"][0]
    assert defaults.OPERATOR_SOURCE.stack_value == context["operatorEventSource"]
    assert defaults.OUTCOME_SOURCE.stack_value == context["outcomeEventSource"]
    assert json.loads(defaults.RECONCILIATION.stack_value) == context["reconciliation"]


def test_the_local_outcomes_queue_is_where_the_cli_looks(deployment: LocalDeployment) -> None:
    name = LOCAL_OUTCOMES_QUEUE.format(stack_name=defaults.STACK_NAME.stack_value)
    assert deployment.outcomes_queue_url.endswith(f"/{name}")


def test_importing_the_cli_loads_no_lambda_runtime_nor_local_aws() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, operator_cli.app; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    assert "operator_cli.app" in loaded
    heavy = ("aws_xray_sdk", "aws_lambda_powertools", "cognito_workers.consumer", "local_aws", "moto")
    assert [module for module in loaded if module.split(".")[0] in heavy or module in heavy] == []
