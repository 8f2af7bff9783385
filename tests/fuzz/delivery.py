"""Delivering fuzzed bodies the way Lambda's SQS event source does, and what each one must have caused."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from cognito_workers.consumer import _MAX_REASON_LENGTH, SqsRecord
from cognito_workers.errors import CommandRejected
from local_aws.deployment import QueuePair
from local_aws.lambda_sqs import BatchReport, Handler, deliver_batch, sqs_record
from tests.conftest import Pipeline
from tests.fuzz.strategies import Case

SQS_MAX_BODY_BYTES = 256 * 1024
T = TypeVar("T")


def sqs_can_carry(body: str) -> bool:
    """Within SendMessage's size and its allowed characters (#x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, ...)."""
    return len(body.encode()) <= SQS_MAX_BODY_BYTES and all(
        char in "\t\n\r" or " " <= char <= "\ud7ff" or "\ue000" <= char <= "\ufffd" or char >= "\U00010000"
        for char in body
    )


def unique(prefix: str) -> str:
    """A name of this example's own (the `unique` fixture would be shared by every example of a test)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def lambda_record(body: str, queue: QueuePair) -> SqsRecord:
    """One record of the event Lambda would build for the body, without the round trip through SQS."""
    message: Any = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "fuzz",
        "Body": body,
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "Attributes": {"ApproximateReceiveCount": "1"},
    }
    return SqsRecord(sqs_record(message, queue.arn, queue.arn.split(":")[3]))


def outcome_of(step: Callable[[], T]) -> T | CommandRejected:
    """What a validation step returns, or the rejection it raises; anything else it raises fails the test."""
    try:
        return step()
    except CommandRejected as rejection:
        return rejection


def names_the_field(message: str, field: str | None) -> bool:
    """The reason starts with the field and goes on to say what is wrong (unless cut at the length limit)."""
    if field is None:
        return False
    named = f"{field}: "
    if message.startswith(named):
        return len(message) > len(named)
    return len(message) == _MAX_REASON_LENGTH and named.startswith(message)


def assert_rejected_as_foreseen(rejection: CommandRejected, case: Any) -> None:
    """A rejection the case foresaw: its code, and a reason that names the field."""
    assert case.expect != "accept", rejection
    assert rejection.code == case.code, rejection
    assert names_the_field(rejection.message, case.field), rejection


def sent_params(body: str) -> Any:
    """The params of a command body of either delivery shape."""
    command = json.loads(body)
    return (command["detail"] if "detail-type" in command else command)["params"]


def deliver(
    pipeline: Pipeline, queue: QueuePair, handler: Handler, bodies: Iterable[str]
) -> tuple[BatchReport, list[str]]:
    """Send the bodies and hand them to the handler in one batch; their SQS message ids, in order."""
    ids = [pipeline.sqs.send_message(QueueUrl=queue.url, MessageBody=body)["MessageId"] for body in bodies]
    report = deliver_batch(
        handler, pipeline.sqs, queue_url=queue.url, queue_arn=queue.arn, function_name="fuzz", batch_size=10
    )
    assert report.received == len(ids)
    return report, ids


def outcomes_by_message(pipeline: Pipeline) -> dict[str, list[dict[str, Any]]]:
    """Every outcome event published since the last call, by the SQS message it is about."""
    pipeline.collect_outcomes()
    by_message: dict[str, list[dict[str, Any]]] = {}
    for outcome in (outcome for found in pipeline.outcomes.values() for outcome in found):
        by_message.setdefault(outcome["detail"].get("messageId", ""), []).append(outcome)
    pipeline.outcomes.clear()
    return by_message


def drain(pipeline: Pipeline, url: str) -> list[dict[str, Any]]:
    """Receive and delete every message of a queue."""
    drained: list[dict[str, Any]] = []
    while messages := pipeline.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        drained.extend(messages)
        for message in messages:
            pipeline.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return drained


def dead_letters(pipeline: Pipeline, url: str) -> dict[str, dict[str, str]]:
    """Drain a DLQ: each entry's message attributes, by the SQS message it dead-letters (once each)."""
    entries = [
        {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
        for message in drain(pipeline, url)
    ]
    by_source = {attributes["SourceMessageId"]: attributes for attributes in entries}
    assert len(by_source) == len(entries)
    return by_source


def assert_rejected_once(
    case: Case, outcomes: list[dict[str, Any]], dead: dict[str, str] | None, rejected: str
) -> None:
    """One rejection outcome, naming the field and the reason, and the same reason on the DLQ entry."""
    assert [outcome["detail-type"] for outcome in outcomes] == [rejected], case
    error = outcomes[0]["detail"]["error"]
    assert error["code"] == case.code, (case, error)
    assert names_the_field(error["message"], case.field), (case, error)
    assert dead is not None, case
    assert (dead["ErrorCode"], dead["ErrorMessage"], dead["Outcome"]) == (
        case.code,
        error["message"],
        rejected,
    )
