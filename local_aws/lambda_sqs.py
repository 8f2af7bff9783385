"""Lambda's SQS event source, locally: receive a batch, call the real handler with the real event shape,
delete what succeeded, leave the batch item failures to come back after their visibility timeout."""

from __future__ import annotations

import functools
import importlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from cognito_workers.catalog import ACTIONS_BY_NAME, PLANNER
from cognito_workers.clients import AwsClients

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from cognito_workers.lifecycle.planner import LifecyclePlanner
    from cognito_workers.worker import ActionWorker
    from local_aws.deployment import LocalDeployment

LAMBDA_TIMEOUT_SECONDS = 30


class Handler(Protocol):
    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]: ...


@dataclass
class LambdaContext:
    """The attributes Powertools reads from Lambda's context object."""

    function_name: str
    timeout_seconds: int = LAMBDA_TIMEOUT_SECONDS
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return self.aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _SharedSession(boto3.session.Session):
    """A boto3 session that makes its clients one at a time (sessions are not thread-safe)."""

    _making = threading.Lock()

    def client(self, *args: Any, **kwargs: Any) -> Any:
        with self._making:
            return super().client(*args, **kwargs)


@functools.cache
def _shared_session() -> boto3.session.Session:
    return _SharedSession()


class _SigningAs(boto3.session.Session):
    """The shared session's clients, signed with one access key id: the local server tells the functions
    apart by it (local_aws/access_log.py). The secret is not checked locally."""

    def __init__(self, access_key_id: str) -> None:  # no super().__init__(): everything is delegated
        self._access_key_id = access_key_id

    def client(self, *args: Any, **kwargs: Any) -> Any:
        shared: Any = _shared_session()  # boto3's overloads do not take *args
        return shared.client(
            *args, aws_access_key_id=self._access_key_id, aws_secret_access_key="local", **kwargs
        )


def environment_clients(access_key_id: str | None = None) -> AwsClients:
    """The AWS clients of one local execution environment, signed as `access_key_id` (a function's name;
    None: the process's credentials). Each Lambda environment reads botocore's service models and endpoint
    data when it makes its clients, part of its cold start; the local environments share one process, so
    they share one session and read them once: a worker's three clients cost 150 ms of CPU from a session
    of their own, 22 ms from the shared one."""
    return AwsClients(_shared_session() if access_key_id is None else _SigningAs(access_key_id))


def sqs_record(message: MessageTypeDef, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of an SQS-triggered Lambda event, as Lambda builds it from ReceiveMessage."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def receive_messages(
    sqs: SQSClient, queue_url: str, *, max_messages: int, wait_seconds: int = 0
) -> list[MessageTypeDef]:
    """Up to `max_messages` (at most 10), with every attribute the event's records carry."""
    return sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])


def sqs_event(messages: list[MessageTypeDef], queue_arn: str) -> dict[str, Any]:
    region = queue_arn.split(":")[3]
    return {"Records": [sqs_record(message, queue_arn, region) for message in messages]}


class InvalidBatchResponse(ValueError):
    """A partial batch response Lambda cannot read: it fails the whole batch."""


def batch_item_failures(response: Any, messages: list[MessageTypeDef]) -> frozenset[str]:
    """The message ids the handler handed back, read as Lambda reads them: no response, no list or an empty
    one is a complete success; an itemIdentifier that is missing, empty or not in the batch is invalid."""
    if response is None:
        return frozenset()
    failures = response.get("batchItemFailures") if isinstance(response, dict) else "not a JSON object"
    if not isinstance(failures, list | None):
        raise InvalidBatchResponse(f"the response is {failures!r}")
    identifiers = [
        failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures or []
    ]
    batch = {message["MessageId"] for message in messages}
    if invalid := [identifier for identifier in identifiers if identifier not in batch]:
        raise InvalidBatchResponse(f"itemIdentifier not in the batch: {invalid}")
    return frozenset(map(str, identifiers))


def delete_messages(sqs: SQSClient, queue_url: str, messages: list[MessageTypeDef]) -> None:
    for start in range(0, len(messages), 10):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(messages[start : start + 10])
            ],
        )


@dataclass(frozen=True)
class BatchReport:
    received: int
    failed_message_ids: tuple[str, ...] = ()
    # What the next invocation needs to see the failures again before their visibility timeout ends.
    failed_receipt_handles: tuple[str, ...] = ()


def deliver_batch(
    handler: Handler,
    sqs: SQSClient,
    *,
    queue_url: str,
    queue_arn: str,
    function_name: str,
    batch_size: int = 10,
    context: Any = None,
) -> BatchReport:
    """Receive up to one batch and hand it to the handler; an empty queue gives an empty report."""
    messages = receive_messages(sqs, queue_url, max_messages=batch_size)
    if not messages:
        return BatchReport(received=0)
    response = handler(sqs_event(messages, queue_arn), context or LambdaContext(function_name=function_name))
    failed = batch_item_failures(response, messages)
    delete_messages(sqs, queue_url, [message for message in messages if message["MessageId"] not in failed])
    return BatchReport(
        received=len(messages),
        failed_message_ids=tuple(sorted(failed)),
        failed_receipt_handles=tuple(
            message["ReceiptHandle"] for message in messages if message["MessageId"] in failed
        ),
    )


def configured_worker(deployment: LocalDeployment, action: str) -> ActionWorker:
    """The action's real handler module, given the settings the template puts in its environment."""
    module = importlib.import_module(ACTIONS_BY_NAME[action].handler_module)
    worker: ActionWorker = module.worker
    worker.consumer.settings = deployment.worker_settings(action)
    return worker


def deliver_to_worker(
    deployment: LocalDeployment, sqs: SQSClient, action: str, context: Any = None
) -> BatchReport:
    """One batch from the action's queue into the action's handler."""
    queue = deployment.queues[action]
    return deliver_batch(
        configured_worker(deployment, action).handler,
        sqs,
        queue_url=queue.url,
        queue_arn=queue.arn,
        function_name=deployment.functions[action].function_name,
        context=context,
    )


def configured_planner(
    deployment: LocalDeployment, planner: LifecyclePlanner | None = None
) -> LifecyclePlanner:
    """The lifecycle planner (the real handler's class), given the settings the template gives it."""
    planner = planner or importlib.import_module(PLANNER.handler_module).planner
    planner.consumer.settings = deployment.planner_settings()
    return planner
