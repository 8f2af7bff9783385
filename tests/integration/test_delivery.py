"""What queues do to messages: duplicates, poison, throttling, retries to exhaustion, redrive, EventBridge."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from local_aws.deployment import LOCAL_VISIBILITY_TIMEOUT_SECONDS, MAX_RECEIVE_COUNT, LocalDeployment
from local_aws.lambda_sqs import BatchReport, LambdaContext
from tests.conftest import Pipeline


@pytest.fixture
def user(signed_in_user: str) -> str:
    """Here every user can sign in: AdminResetUserPassword needs a confirmed user."""
    return signed_in_user


def enabled(cognito: Any, deployment: LocalDeployment, username: str) -> bool:
    return bool(cognito.admin_get_user(UserPoolId=deployment.user_pool_id, Username=username)["Enabled"])


@contextmanager
def cognito_answers(pipeline: Pipeline, action: str, code: str, status: int = 400) -> Iterator[None]:
    """Make every cognito-idp call of the action's worker answer with this error (botocore's own retries
    off, so each delivery makes one attempt)."""
    worker = pipeline.worker(action)
    client = boto3.client("cognito-idp", config=Config(retries={"max_attempts": 1}))

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("http://injected", status, {}, None), body

    client.meta.events.register("before-call.cognito-idp.*", answer)
    worker.consumer.clients.cognito_idp = client
    try:
        yield
    finally:
        del worker.consumer.clients.cognito_idp  # back to the lazily created client


def test_the_same_command_twice_in_one_batch_has_one_effect(
    pipeline: Pipeline, deployment: LocalDeployment, user: str, delivery_counts: Any
) -> None:
    command = {
        "action": "AdminResetUserPassword",
        "idempotencyKey": f"{user}:reset",
        "params": {"Username": user},
    }
    pipeline.send("AdminResetUserPassword", {**command, "correlationId": f"{user}-first"})
    pipeline.send("AdminResetUserPassword", {**command, "correlationId": f"{user}-second"})

    report = pipeline.deliver("AdminResetUserPassword")

    assert (report.received, report.failed_message_ids) == (2, ())
    assert delivery_counts()[(deployment.user_pool_id, user)].password_reset_codes == 1
    outcomes = pipeline.outcomes_for(f"{user}-first") + pipeline.outcomes_for(f"{user}-second")
    assert sorted((o["detail-type"], o["detail"]["reason"]) for o in outcomes) == [
        ("ActionSkipped", "AlreadyProcessed"),
        ("ActionSucceeded", None),
    ]


def test_a_redelivered_eventbridge_event_has_one_effect(
    pipeline: Pipeline, deployment: LocalDeployment, user: str, delivery_counts: Any
) -> None:
    event = {
        "version": "0",
        "id": f"event-{user}",
        "detail-type": "AdminResetUserPassword",
        "source": "hr.system",
        "account": "123456789012",
        "time": "2026-11-26T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"correlationId": user, "params": {"Username": user}},
    }
    for _ in range(2):
        pipeline.send("AdminResetUserPassword", event)
        pipeline.deliver("AdminResetUserPassword")

    assert delivery_counts()[(deployment.user_pool_id, user)].password_reset_codes == 1
    outcomes = pipeline.outcomes_for(user)
    assert [o["detail-type"] for o in outcomes] == ["ActionSucceeded", "ActionSkipped"]
    assert {o["detail"]["idempotencyKey"] for o in outcomes} == {f"event-{user}:AdminResetUserPassword"}


def test_commands_routed_by_the_bus_reach_the_worker(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    events = boto3.client("events")
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": deployment.event_bus_name,
                "Source": "hr.system",
                "DetailType": "AdminDisableUser",
                "Detail": json.dumps({"correlationId": user, "params": {"Username": user}}),
            }
        ]
    )

    assert pipeline.deliver("AdminDisableUser").received == 1

    assert enabled(cognito, deployment, user) is False
    (outcome,) = pipeline.outcomes_for(user)
    assert outcome["detail"]["idempotencyKey"] == f"{answer['Entries'][0]['EventId']}:AdminDisableUser"


def test_events_from_unlisted_sources_or_with_unknown_detail_types_are_not_routed(
    pipeline: Pipeline, deployment: LocalDeployment, user: str
) -> None:
    boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": deployment.event_bus_name,
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps({"params": {"Username": user}}),
            }
            for source, detail_type in (
                ("someone.else", "AdminDisableUser"),
                ("hr.system", "AdminDoAnything"),
            )
        ]
    )

    assert all(pipeline.deliver(action).received == 0 for action in deployment.queues)


def test_a_bad_record_is_dead_lettered_with_its_reason_and_its_siblings_succeed(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    first, second = unique("sibling"), unique("sibling")
    for username in (first, second):
        cognito.admin_create_user(
            UserPoolId=deployment.user_pool_id, Username=username, MessageAction="SUPPRESS"
        )
    bad_bodies = {
        "MalformedJson": '{"action": "AdminDisableUser", ',
        "InvalidCommand": json.dumps({"action": "AdminDisableUser", "params": {"Username": "x"}, "extra": 1}),
        "UnknownAction": json.dumps({"action": "AdminDoAnything", "params": {}}),
        "WrongQueue": json.dumps({"action": "AdminEnableUser", "params": {"Username": first}}),
        "InvalidParams": json.dumps({"action": "AdminDisableUser", "params": {"Username": "a" * 129}}),
        "UnmanagedUserPool": json.dumps(
            {"action": "AdminDisableUser", "params": {"UserPoolId": "us-east-1_Other", "Username": first}}
        ),
    }
    pipeline.send("AdminDisableUser", {"action": "AdminDisableUser", "params": {"Username": first}})
    bad_ids = {pipeline.send("AdminDisableUser", body): code for code, body in bad_bodies.items()}
    pipeline.send("AdminDisableUser", {"action": "AdminDisableUser", "params": {"Username": second}})

    reports = [pipeline.deliver("AdminDisableUser") for _ in range(2)]

    assert sum(report.received for report in reports) == 8
    assert all(report.failed_message_ids == () for report in reports)
    assert not enabled(cognito, deployment, first)
    assert not enabled(cognito, deployment, second)
    dead = {
        m["MessageAttributes"]["SourceMessageId"]["StringValue"]: m
        for m in pipeline.dead_letters("AdminDisableUser")
    }
    assert {
        message_id: m["MessageAttributes"]["ErrorCode"]["StringValue"] for message_id, m in dead.items()
    } == bad_ids
    reasons = {bad_ids[i]: m["MessageAttributes"]["ErrorMessage"]["StringValue"] for i, m in dead.items()}
    assert reasons["MalformedJson"].startswith("body: not valid JSON")
    assert reasons["InvalidCommand"] == "extra: Extra inputs are not permitted"
    assert reasons["UnknownAction"] == "action: this worker runs AdminDisableUser, not 'AdminDoAnything'"
    assert reasons["InvalidParams"] == "params.Username: String should have at most 128 characters"
    assert reasons["UnmanagedUserPool"].startswith("params.UserPoolId: us-east-1_Other is not managed")
    for message_id, code in bad_ids.items():
        (outcome,) = pipeline.outcomes_of_message(message_id)
        assert outcome["detail-type"] == "ActionRejected"
        assert outcome["detail"]["error"]["code"] == code


def test_a_rejection_its_producer_handles_is_audited_not_dead_lettered(
    pipeline: Pipeline, unique: Any
) -> None:
    # Given a planner step (its producer handles rejections, as its envelope says) and a direct command
    missing = unique("nobody")
    step_key, direct_key = f"plan:{missing}:0:0:AdminDisableUser", f"{missing}:disable"
    for key, handled in ((step_key, {"deadLetterRejections": False}), (direct_key, {})):
        pipeline.send(
            "AdminDisableUser",
            {"action": "AdminDisableUser", "idempotencyKey": key, "params": {"Username": missing}, **handled},
        )

    pipeline.deliver("AdminDisableUser")

    for key in (step_key, direct_key):
        (outcome,) = pipeline.outcomes_for(key)
        assert outcome["detail-type"] == "ActionRejected"
        assert outcome["detail"]["error"]["code"] == "UserNotFoundException"
    dead_keys = [json.loads(m["Body"])["idempotencyKey"] for m in pipeline.dead_letters("AdminDisableUser")]
    assert dead_keys == [direct_key]


def test_throttling_hands_the_record_back_and_a_later_delivery_applies_it(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    message_id = pipeline.send(
        "AdminDisableUser", {"action": "AdminDisableUser", "params": {"Username": user}}
    )

    with cognito_answers(pipeline, "AdminDisableUser", "TooManyRequestsException"):
        report = pipeline.deliver("AdminDisableUser")

    assert report.failed_message_ids == (message_id,)
    assert pipeline.dead_letters("AdminDisableUser") == []
    assert enabled(cognito, deployment, user) is True
    pipeline.release_in_flight("AdminDisableUser")
    assert pipeline.deliver("AdminDisableUser").failed_message_ids == ()
    assert enabled(cognito, deployment, user) is False


def test_a_transient_failure_on_the_last_delivery_ends_in_the_dlq_as_failed(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    pipeline.send(
        "AdminDisableUser",
        {"action": "AdminDisableUser", "correlationId": user, "params": {"Username": user}},
    )

    with cognito_answers(pipeline, "AdminDisableUser", "InternalErrorException", status=500):
        for _ in range(MAX_RECEIVE_COUNT):
            report = pipeline.deliver("AdminDisableUser")
            pipeline.release_in_flight("AdminDisableUser")

    assert report.failed_message_ids == ()  # the last delivery acknowledged it, after dead-lettering
    (dead,) = pipeline.dead_letters("AdminDisableUser")
    assert dead["MessageAttributes"]["ErrorCode"]["StringValue"] == "InternalErrorException"
    assert dead["MessageAttributes"]["ReceiveCount"]["StringValue"] == str(MAX_RECEIVE_COUNT)
    (outcome,) = pipeline.outcomes_for(user)
    assert outcome["detail-type"] == "ActionFailed"
    assert enabled(cognito, deployment, user) is True


def test_a_dead_lettered_command_applies_when_redriven_after_the_cause_is_fixed(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str, unique: Any
) -> None:
    group = unique("new-team")
    pipeline.send(
        "AdminAddUserToGroup",
        {"action": "AdminAddUserToGroup", "params": {"Username": user, "GroupName": group}},
    )
    pipeline.deliver("AdminAddUserToGroup")
    (dead,) = pipeline.dead_letters("AdminAddUserToGroup")
    assert dead["MessageAttributes"]["ErrorCode"]["StringValue"] == "ResourceNotFoundException"

    cognito.create_group(UserPoolId=deployment.user_pool_id, GroupName=group)
    pipeline.send("AdminAddUserToGroup", dead["Body"])
    pipeline.deliver("AdminAddUserToGroup")

    groups = cognito.admin_list_groups_for_user(UserPoolId=deployment.user_pool_id, Username=user)["Groups"]
    assert [g["GroupName"] for g in groups] == [group]


def test_a_reused_idempotency_key_with_other_params_is_rejected(
    pipeline: Pipeline, user: str, unique: Any
) -> None:
    key = unique("key")
    assert (
        pipeline.run("AdminDisableUser", {"Username": user}, idempotencyKey=key)["detail-type"]
        == "ActionSucceeded"
    )

    outcome = pipeline.run("AdminDisableUser", {"Username": f"{user}-other"}, idempotencyKey=key)

    assert outcome["detail-type"] == "ActionRejected"
    assert outcome["detail"]["error"]["code"] == "IdempotencyKeyReused"


def test_too_little_time_left_hands_records_back_unprocessed(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    message_id = pipeline.send(
        "AdminDisableUser", {"action": "AdminDisableUser", "params": {"Username": user}}
    )

    report = pipeline.deliver(
        "AdminDisableUser", context=LambdaContext("AdminDisableUser", timeout_seconds=1)
    )

    assert report.failed_message_ids == (message_id,)
    assert enabled(cognito, deployment, user) is True
    pipeline.release_in_flight("AdminDisableUser")
    assert pipeline.deliver("AdminDisableUser").failed_message_ids == ()


def _duplicate_found_in_progress(
    pipeline: Pipeline, sqs: Any, command: dict[str, Any], earlier_receives: int
) -> tuple[str, str]:
    """Deliver `command`, and while its Cognito call is in progress deliver a copy of it (after
    `earlier_receives` receives that did not process it), as a second invocation would: the copy's message
    id and receipt handle, handed back."""
    action, url = command["action"], pipeline.deployment.queues[command["action"]].url
    copies: list[BatchReport] = []

    def deliver_a_copy(**_: Any) -> None:
        if copies:
            return
        pipeline.send(action, command)
        for _ in range(earlier_receives):
            (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        copies.append(pipeline.deliver(action))

    pipeline.send(action, command)
    worker = pipeline.worker(action)
    client = boto3.client("cognito-idp")
    client.meta.events.register("before-call.cognito-idp.*", deliver_a_copy)
    worker.consumer.clients.cognito_idp = client
    try:
        assert pipeline.deliver(action).failed_message_ids == ()
    finally:
        del worker.consumer.clients.cognito_idp
    (copy,) = copies
    (message_id,) = copy.failed_message_ids
    pipeline.in_flight.pop(action)  # not released by the test: only its own visibility brings it back
    return message_id, copy.failed_receipt_handles[0]


def _seconds_until_delivered(pipeline: Pipeline, action: str, within: float) -> float | None:
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < within:
        if pipeline.deliver(action).received:
            return elapsed
        time.sleep(0.2)
    return None


def test_a_copy_found_in_progress_comes_back_within_seconds_and_is_skipped(
    pipeline: Pipeline, sqs: Any, cognito: Any, deployment: LocalDeployment, user: str, unique: Any
) -> None:
    command = {
        "action": "AdminDisableUser",
        "idempotencyKey": unique("disable"),
        "params": {"Username": user},
    }

    message_id, _ = _duplicate_found_in_progress(pipeline, sqs, command, earlier_receives=0)

    # Back after 2 s, not after the queue's visibility timeout, and skipped: the first copy applied it
    seconds = _seconds_until_delivered(
        pipeline, "AdminDisableUser", within=LOCAL_VISIBILITY_TIMEOUT_SECONDS / 2
    )
    assert seconds is not None
    (skipped,) = pipeline.outcomes_of_message(message_id)
    assert (skipped["detail-type"], skipped["detail"]["reason"]) == ("ActionSkipped", "AlreadyProcessed")
    assert enabled(cognito, deployment, user) is False


def test_the_delivery_before_the_last_waits_out_the_visibility_timeout(
    pipeline: Pipeline, sqs: Any, user: str, unique: Any, worker_logs: io.StringIO
) -> None:
    command = {
        "action": "AdminDisableUser",
        "idempotencyKey": unique("disable"),
        "params": {"Username": user},
    }

    # Its receive count one short of the last: a holder that crashed has its in-progress marker expire first
    _, receipt = _duplicate_found_in_progress(pipeline, sqs, command, earlier_receives=MAX_RECEIVE_COUNT - 2)

    (retry,) = [
        line
        for line in map(json.loads, worker_logs.getvalue().splitlines())
        if line["message"] == "will be retried"
    ]
    assert (retry["error_code"], retry["receive_count"]) == ("InProgress", MAX_RECEIVE_COUNT - 1)
    assert "retry_in_seconds" not in retry  # the queue's visibility timeout stands
    assert _seconds_until_delivered(pipeline, "AdminDisableUser", within=3) is None
    # (its last delivery, made now rather than after the timeout, where another test would find it)
    pipeline.in_flight["AdminDisableUser"] = [receipt]
    pipeline.release_in_flight("AdminDisableUser")
    assert pipeline.deliver("AdminDisableUser").failed_message_ids == ()
