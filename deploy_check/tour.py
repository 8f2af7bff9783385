"""The action tour of `python -m local_aws.demo` (its steps, commands and order), on the deployed stack: each
command through the bus, the action's rule and queue, the event source mapping and the real handler; each
action MiniStack's Cognito does not serve is named with the reason instead of being sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from cognito_workers.catalog import ACTIONS
from deploy_check.outcomes import Event, OutcomeLog, summary
from deploy_check.report import Check
from deploy_check.template import MINISTACK
from local_aws.demo import STEPS, Demo

OUTCOME_TIMEOUT_SECONDS = 60
# One attempt, no client-side validation: the probe sends each operation bare and reads only whether the
# emulator knows it.
_PROBE_CONFIG = Config(retries={"total_max_attempts": 1}, parameter_validation=False)


def unserved_actions(session: Any, endpoint_url: str) -> dict[str, str]:
    """The catalog's actions MiniStack's Cognito does not know, each with the reason: its own answer."""
    cognito = session.client("cognito-idp", endpoint_url=endpoint_url, config=_PROBE_CONFIG)
    unserved = {}
    for spec in ACTIONS:
        try:
            getattr(cognito, spec.operation)(UserPoolId="us-east-1_probe")
        except ClientError as error:
            if error.response["Error"]["Code"] == "InvalidAction":
                unserved[spec.name] = f"{MINISTACK}'s Cognito: {error.response['Error']['Message']}"
    return unserved


def run_tour(demo: Demo, outcomes: OutcomeLog, unserved: dict[str, str]) -> list[Check]:
    checks = []
    for step in STEPS:
        name = f"tour: {step.action}"
        if step.action in unserved:
            checks.append(Check.gap(name, f"not sent: {unserved[step.action]}"))
            continue
        try:
            params = step.params(demo)
        except ClientError as error:
            # The step's own set-up call (a sign-in, a sign-up) before the command.
            checks.append(Check.compare(name, "its set-up call answered", f"set-up refused: {error}"))
            continue
        outcome = outcomes.first(_correlated(demo.publish(step.action, params)), OUTCOME_TIMEOUT_SECONDS)
        checks.append(Check.compare(name, "ActionSucceeded", summary(outcome)))
    return checks


def _correlated(correlation_id: str) -> Callable[[Event], bool]:
    return lambda event: event["detail"].get("correlationId") == correlation_id
