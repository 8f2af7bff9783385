"""AdminCreateUser traffic against stubbed AWS: real SQS-shaped batches, real boto3 clients (the workers'
configuration) answered by botocore's Stubber, so that each call is validated and serialized as it would be
for AWS but never leaves the process."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from botocore import xform_name
from botocore.stub import Stubber

from cognito_workers.clients import AwsClients
from local_aws.lambda_sqs import LambdaContext, sqs_record

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:bench-AdminCreateUser"
# What one AdminCreateUser record costs in AWS calls, in order per client: the idempotency record saved in
# progress, the call's place booked in the quota budget (the first of its second), the Cognito call, the
# record completed, the outcome event.
RECORD_CALLS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("dynamodb", "put_item", {}),
    ("dynamodb", "update_item", {"Attributes": {"used": {"N": "1"}}}),
    (
        "cognito_idp",
        "admin_create_user",
        {
            "User": {
                "Username": "bench",
                "Attributes": [{"Name": "email", "Value": "bench@example.com"}],
                "UserCreateDate": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
                "UserStatus": "FORCE_CHANGE_PASSWORD",
                "Enabled": True,
            }
        },
    ),
    ("dynamodb", "update_item", {}),
    ("events", "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "bench-event"}]}),
)

# One captured call: client attribute of AwsClients, method name, params.
Call = tuple[str, str, dict[str, Any]]


class StubbedTraffic:
    def __init__(self) -> None:
        self.clients = AwsClients()
        self._stubbers = {name: Stubber(getattr(self.clients, name)) for name, _, _ in RECORD_CALLS}
        for stubber in self._stubbers.values():
            stubber.activate()
        self.captured: list[Call] = []

    def prepare_batch(self, number: int, size: int) -> tuple[dict[str, Any], LambdaContext]:
        """Batch `number` of `size` new commands, with the stubbed answers to their calls queued."""
        for _ in range(size):
            for name, operation, response in RECORD_CALLS:
                self._stubbers[name].add_response(operation, response)
        records = [sqs_record(_message(f"{number}-{index}"), QUEUE_ARN, "us-east-1") for index in range(size)]
        return {"Records": records}, LambdaContext(function_name="bench-admin-create-user")

    def check_batch(self, response: Any) -> None:
        """Every record succeeded and made exactly the calls it was expected to make."""
        if response is not None and response.get("batchItemFailures"):
            raise RuntimeError(f"records failed: {response}")
        for stubber in self._stubbers.values():
            stubber.assert_no_pending_responses()

    @contextmanager
    def capturing(self) -> Iterator[None]:
        """Record every call the clients make, with its params, while inside."""

        def capture(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
            client = model.service_model.service_name.replace("-", "_")
            self.captured.append((client, xform_name(model.name), json.loads(json.dumps(params))))

        for stubber in self._stubbers.values():
            stubber.client.meta.events.register("provide-client-params.*.*", capture)
        try:
            yield
        finally:
            for stubber in self._stubbers.values():
                stubber.client.meta.events.unregister("provide-client-params.*.*", capture)

    def bare_loop(self, calls: list[Call]) -> Callable[[dict[str, Any], LambdaContext], None]:
        """What a function without the framework would do for the same records: read each body and make
        the same calls with the same params."""

        def run_batch(event: dict[str, Any], context: LambdaContext) -> None:
            for record in event["Records"]:
                json.loads(record["body"])
                for client, method, params in calls:
                    getattr(getattr(self.clients, client), method)(**params)

        return run_batch


def _message(key: str) -> MessageTypeDef:
    body = json.dumps(
        {
            "action": "AdminCreateUser",
            "idempotencyKey": f"bench-{key}",
            "params": {
                "Username": f"user-{key}",
                "UserAttributes": [{"Name": "email", "Value": f"user-{key}@example.com"}],
                "TemporaryPassword": "Bench-Passw0rd!",
                "MessageAction": "SUPPRESS",
            },
        }
    )
    return {
        "MessageId": f"message-{key}",
        "ReceiptHandle": f"receipt-{key}",
        "Body": body,
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"},
    }
