"""StartMessageMoveTask and ListMessageMoveTasks on the local server, as an operator's redrive uses them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_aws.server import LocalAws
from tests.local_aws.shapes import call


@pytest.fixture(scope="module")
def sqs(local_aws: LocalAws) -> Any:
    return boto3.client("sqs")


@pytest.fixture
def queues(sqs: Any) -> tuple[str, str]:
    """A queue and its DLQ, fresh for each test: (queue url, dead-letter queue url)."""
    name = f"move-{uuid.uuid4().hex[:8]}"
    dead_letter_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dead_letter_arn = _arn(sqs, dead_letter_url)
    queue_url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": 5})
        },
    )["QueueUrl"]
    return queue_url, dead_letter_url


def _arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _bodies(sqs: Any, url: str) -> list[tuple[str, dict[str, Any]]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return [(m["Body"], m.get("MessageAttributes", {})) for m in messages.get("Messages", [])]


def test_a_move_task_sends_every_dead_letter_back_with_its_attributes(
    sqs: Any, queues: tuple[str, str]
) -> None:
    queue_url, dead_letter_url = queues
    reason = {"ErrorCode": {"DataType": "String", "StringValue": "InvalidParams"}}
    for number in range(3):
        sqs.send_message(QueueUrl=dead_letter_url, MessageBody=f"command {number}", MessageAttributes=reason)

    started = call(
        sqs, "StartMessageMoveTask", SourceArn=_arn(sqs, dead_letter_url), DestinationArn=_arn(sqs, queue_url)
    )

    assert started["TaskHandle"]
    moved = _bodies(sqs, queue_url)
    assert sorted(body for body, _ in moved) == ["command 0", "command 1", "command 2"]
    assert all(attributes["ErrorCode"]["StringValue"] == "InvalidParams" for _, attributes in moved)
    assert _bodies(sqs, dead_letter_url) == []


def test_without_a_destination_messages_go_back_to_the_queue_that_dead_lettered_them(
    sqs: Any, queues: tuple[str, str]
) -> None:
    queue_url, dead_letter_url = queues
    sqs.send_message(QueueUrl=dead_letter_url, MessageBody="command")

    call(sqs, "StartMessageMoveTask", SourceArn=_arn(sqs, dead_letter_url))

    assert [body for body, _ in _bodies(sqs, queue_url)] == ["command"]


def test_the_task_is_listed_completed_with_its_count(sqs: Any, queues: tuple[str, str]) -> None:
    queue_url, dead_letter_url = queues
    sqs.send_message(QueueUrl=dead_letter_url, MessageBody="command")
    source_arn = _arn(sqs, dead_letter_url)
    call(sqs, "StartMessageMoveTask", SourceArn=source_arn)

    (task,) = call(sqs, "ListMessageMoveTasks", SourceArn=source_arn, MaxResults=5)["Results"]

    assert "TaskHandle" not in task  # SQS lists it for running tasks only
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    assert task["DestinationArn"] == _arn(sqs, queue_url)


def test_an_unknown_source_is_refused(sqs: Any) -> None:
    with pytest.raises(ClientError) as refused:
        sqs.start_message_move_task(SourceArn="arn:aws:sqs:us-east-1:123456789012:no-such-queue")

    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "no-such-queue" in refused.value.response["Error"]["Message"]
