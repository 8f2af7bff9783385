"""The edited copy through CloudFormation's CreateStack, as `cdk deploy` does it: the template uploaded to the
asset bucket and given by URL (it is over CreateStack's 51,200-byte TemplateBody limit)."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from deploy_check import DeployCheckProblem
from deploy_check.template import Template

DEPLOY_TIMEOUT_SECONDS = 180
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployProblem(DeployCheckProblem):
    """The stack did not deploy; the message names the resource, its type and CloudFormation's reason."""


@dataclass(frozen=True)
class DeployedStack:
    name: str
    outputs: dict[str, str]
    statuses: Counter[str]  # resources per status
    seconds: float


def deploy(
    cloudformation: Any, s3: Any, *, stack_name: str, template: Template, bucket: str, region: str
) -> DeployedStack:
    key = f"deploy-check/{stack_name}.template.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(template).encode())
    started = time.monotonic()
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateURL=f"https://s3.{region}.amazonaws.com/{bucket}/{key}",
        Capabilities=CAPABILITIES,
    )
    stack = _wait_for_stack(cloudformation, stack_name)
    seconds = time.monotonic() - started
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise DeployProblem(
            f"stack {stack_name}: {stack['StackStatus']}: {_first_failure(cloudformation, stack_name)}"
        )
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    statuses = Counter(
        summary["ResourceStatus"] for page in pages for summary in page["StackResourceSummaries"]
    )
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return DeployedStack(stack_name, outputs, statuses, seconds)


def _wait_for_stack(cloudformation: Any, stack_name: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEPLOY_TIMEOUT_SECONDS
    while True:
        stack: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        if time.monotonic() > deadline:
            raise DeployProblem(
                f"stack {stack_name}: still {stack['StackStatus']} after {DEPLOY_TIMEOUT_SECONDS} s"
            )
        time.sleep(0.5)


def _first_failure(cloudformation: Any, stack_name: str) -> str:
    """The first resource that failed, from the stack's events (listed newest first)."""
    pages = cloudformation.get_paginator("describe_stack_events").paginate(StackName=stack_name)
    events = [event for page in pages for event in page["StackEvents"]]
    for event in reversed(events):
        if event["ResourceStatus"].endswith("_FAILED") and event["LogicalResourceId"] != stack_name:
            return (
                f"{event['LogicalResourceId']} ({event['ResourceType']}) {event['ResourceStatus']}: "
                f"{event.get('ResourceStatusReason') or 'no reason given'}"
            )
    return "no resource failed; " + (events[0].get("ResourceStatusReason") or "no reason given")
