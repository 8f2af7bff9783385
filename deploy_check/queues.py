"""The stack's queues, found by the names every deployment gives them (`catalog.ResourceNames`), and the
checks of their depths once the roster has run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cognito_workers.catalog import ResourceNames
from deploy_check.report import Check

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class FunctionQueues:
    url: str
    dead_letter_url: str


def stack_queues(sqs: SQSClient, names: ResourceNames) -> dict[str, FunctionQueues]:
    """Every queue-fed function's queue and DLQ, by function (the actions and the planner)."""
    return {
        function: FunctionQueues(
            sqs.get_queue_url(QueueName=names.queue(function))["QueueUrl"],
            sqs.get_queue_url(QueueName=names.dead_letter_queue(function))["QueueUrl"],
        )
        for function in names.functions
    }


def depth(sqs: SQSClient, url: str) -> int:
    """Messages waiting or in flight."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def undrained(sqs: SQSClient, queues: dict[str, FunctionQueues]) -> dict[str, int]:
    """Functions whose queue still holds messages, with how many."""
    depths = {function: depth(sqs, pair.url) for function, pair in queues.items()}
    return {function: count for function, count in depths.items() if count}


def dead_letter_checks(
    sqs: SQSClient, queues: dict[str, FunctionQueues], expected: dict[str, int], names: ResourceNames
) -> list[Check]:
    """One row per DLQ expected to hold messages, and one for all the others (expected empty)."""
    depths = {function: depth(sqs, pair.dead_letter_url) for function, pair in queues.items()}
    checks = [
        Check.compare(f"DLQ {names.dead_letter_queue(function)}", count, depths[function])
        for function, count in expected.items()
    ]
    others = {function: count for function, count in depths.items() if function not in expected}
    nonempty = [
        f"{names.dead_letter_queue(function)}: {count}" for function, count in others.items() if count
    ]
    checks.append(
        Check.compare(f"every other DLQ ({len(others)})", "all empty", "; ".join(nonempty) or "all empty")
    )
    return checks
