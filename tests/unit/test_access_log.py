"""Requests seen as IAM sees them, from botocore's own signed requests (no server), and IAM's evaluation of
a role's statements against them."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from local_aws.access_log import Call, calls_of
from local_aws.iam_check import allowed

REGION = "eu-west-1"
ACCOUNT = "123456789012"


class _Sent(Exception):
    """Raised where the request would leave: it is read, not sent."""


def signed_calls(service: str, operation: str, **params: Any) -> list[Call]:
    """Make the call with a botocore client signing as `worker`, and read what it would have sent."""
    client = boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=REGION,
        endpoint_url="http://localhost:1",
        aws_access_key_id="worker",
        aws_secret_access_key="secret",
    )
    seen: list[Call] = []

    def capture(request: Any, **_: Any) -> None:
        path, _, query = request.url.removeprefix("http://localhost:1").partition("?")
        body = request.body or b""
        environ = {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "HTTP_AUTHORIZATION": request.headers["Authorization"].decode(),
            "HTTP_X_AMZ_TARGET": request.headers.get("X-Amz-Target", b"").decode(),
            "CONTENT_TYPE": request.headers.get("Content-Type", b"").decode(),
        }
        seen.extend(calls_of(environ, body if isinstance(body, bytes) else body.encode()))
        raise _Sent

    client.meta.events.register("before-send", capture)
    with pytest.raises(_Sent):
        getattr(client, operation)(**params)
    return seen


def test_a_json_call_names_its_pool() -> None:
    assert signed_calls("cognito-idp", "admin_disable_user", UserPoolId="eu-west-1_Pool", Username="u") == [
        Call(
            "worker",
            "cognito-idp:AdminDisableUser",
            f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/eu-west-1_Pool",
        )
    ]


def test_sqs_batches_are_authorized_as_their_single_message_action() -> None:
    url = f"http://localhost:1/{ACCOUNT}/jobs"
    calls = signed_calls(
        "sqs", "delete_message_batch", QueueUrl=url, Entries=[{"Id": "1", "ReceiptHandle": "r"}]
    )
    assert calls == [Call("worker", "sqs:DeleteMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs")]


def test_each_put_events_entry_is_a_call_with_its_source() -> None:
    entries = [
        {"Source": "a", "DetailType": "x", "Detail": "{}", "EventBusName": "bus"},
        {
            "Source": "b",
            "DetailType": "x",
            "Detail": "{}",
            "EventBusName": "arn:aws:events:eu-west-1:1:event-bus/o",
        },
    ]
    assert signed_calls("events", "put_events", Entries=entries) == [
        Call(
            "worker",
            "events:PutEvents",
            f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/bus",
            "events:source",
            "a",
        ),
        Call("worker", "events:PutEvents", "arn:aws:events:eu-west-1:1:event-bus/o", "events:source", "b"),
    ]


def test_a_rest_call_is_found_by_its_route_and_passes_its_role() -> None:
    calls = signed_calls(
        "scheduler",
        "create_schedule",
        Name="delete-jdoe",
        GroupName="deletions",
        ScheduleExpression="at(2026-12-31T00:00:00)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:sqs:eu-west-1:1:q", "RoleArn": "arn:aws:iam::1:role/sender"},
    )
    assert calls == [
        Call(
            "worker",
            "scheduler:CreateSchedule",
            f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/deletions/delete-jdoe",
        ),
        Call(
            "worker",
            "iam:PassRole",
            "arn:aws:iam::1:role/sender",
            "iam:PassedToService",
            "scheduler.amazonaws.com",
        ),
    ]


def test_a_query_protocol_call_is_read_from_its_form() -> None:
    assert signed_calls("iam", "list_roles") == [Call("worker", "iam:ListRoles", "*")]


def test_unsigned_and_unreadable_requests() -> None:
    assert calls_of({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, b"") == []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=worker/20261201/eu-west-1/sqs/aws4_request, ...",
        "HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage",
    }
    (call,) = calls_of(environ, b"not json")
    assert (call.principal, call.action) == ("worker", "sqs:unreadable")


STATEMENTS: list[dict[str, Any]] = [
    {"Effect": "Allow", "Action": "sqs:*Message", "Resource": "arn:aws:sqs:*:*:jobs"},
    {
        "Effect": "Allow",
        "Action": "events:PutEvents",
        "Resource": "arn:aws:events:eu-west-1:1:event-bus/bus",
        "Condition": {"StringEquals": {"events:source": ["a", "b"]}},
    },
    {"Effect": "Deny", "Action": "sqs:DeleteMessage", "Resource": "*"},
]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (Call("w", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:jobs"), True),
        (Call("w", "SQS:sendmessage", "arn:aws:sqs:eu-west-1:1:jobs"), True),  # actions ignore case
        (Call("w", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:other"), False),
        (Call("w", "sqs:DeleteMessage", "arn:aws:sqs:eu-west-1:1:jobs"), False),  # an explicit Deny wins
        (
            Call("w", "events:PutEvents", "arn:aws:events:eu-west-1:1:event-bus/bus", "events:source", "a"),
            True,
        ),
        (
            Call("w", "events:PutEvents", "arn:aws:events:eu-west-1:1:event-bus/bus", "events:source", "c"),
            False,
        ),
        (
            Call("w", "events:PutEvents", "arn:aws:events:eu-west-1:1:event-bus/bus"),
            False,
        ),  # no source: no match
    ],
)
def test_statements_are_evaluated_as_iam_does(call: Call, expected: bool) -> None:
    assert allowed(STATEMENTS, call) is expected
