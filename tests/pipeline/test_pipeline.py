"""The local pipeline: Lambda's SQS event source semantics over moto's queues, with the real workers."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from cognito_workers.catalog import ACTIONS
from local_aws.deployment import LocalDeployment
from local_aws.lambda_sqs import Handler
from local_aws.pipeline import (
    EventSourceTuning,
    FunctionStats,
    LocalPipeline,
    QueueFunction,
    action_function,
)
from tests.conftest import Pipeline
from tests.pipeline.conftest import PREFIX, Throttle

GROUP = "engineering"


def function_name(action: str) -> str:
    return f"{PREFIX}-{action}"  # the template names each function after its queue


def send(sqs: Any, deployment: LocalDeployment, action: str, **params: Any) -> str:
    """A command for the action's queue; returns its correlation id."""
    correlation_id = f"pipeline-{uuid.uuid4()}"
    sqs.send_message(
        QueueUrl=deployment.queues[action].url,
        MessageBody=json.dumps({"action": action, "correlationId": correlation_id, "params": params}),
    )
    return correlation_id


def existing_users(
    cognito: Any, deployment: LocalDeployment, unique: Callable[[str], str], count: int
) -> list[str]:
    usernames = [unique("user") for _ in range(count)]
    for username in usernames:
        cognito.admin_create_user(
            UserPoolId=deployment.user_pool_id, Username=username, MessageAction="SUPPRESS"
        )
    return usernames


def enabled(cognito: Any, deployment: LocalDeployment, username: str) -> bool:
    return bool(cognito.admin_get_user(UserPoolId=deployment.user_pool_id, Username=username)["Enabled"])


def plain_queue(sqs: Any, unique: Callable[[str], str], **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=unique("pipeline-queue"), Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def send_bodies(sqs: Any, url: str, count: int) -> None:
    for start in range(0, count, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "MessageBody": f"body-{n}"} for n in range(start, min(count, start + 10))
            ],
        )


def test_commands_for_several_actions_are_drained_with_their_effects(
    own_deployment: LocalDeployment, audit: Pipeline, sqs: Any, cognito: Any, unique: Callable[[str], str]
) -> None:
    movers = existing_users(cognito, own_deployment, unique, 4)
    joiners = [unique("joiner") for _ in range(12)]
    correlation_ids = [
        *(
            send(sqs, own_deployment, "AdminCreateUser", Username=u, MessageAction="SUPPRESS")
            for u in joiners
        ),
        *(send(sqs, own_deployment, "AdminAddUserToGroup", Username=u, GroupName=GROUP) for u in movers),
        *(send(sqs, own_deployment, "AdminDisableUser", Username=u) for u in movers[:2]),
    ]

    stats = LocalPipeline(action_function(own_deployment, spec.name) for spec in ACTIONS).drain(timeout_s=60)

    assert {
        name: (s.records_received, s.records_succeeded, s.records_failed, s.errors)
        for name, s in stats.functions.items()
        if s.invocations
    } == {
        function_name("AdminCreateUser"): (12, 12, 0, 0),
        function_name("AdminAddUserToGroup"): (4, 4, 0, 0),
        function_name("AdminDisableUser"): (2, 2, 0, 0),
    }
    users = cognito.get_paginator("list_users").paginate(UserPoolId=own_deployment.user_pool_id)
    assert set(joiners) <= {user["Username"] for page in users for user in page["Users"]}
    members = cognito.get_paginator("list_users_in_group").paginate(
        UserPoolId=own_deployment.user_pool_id, GroupName=GROUP
    )
    assert set(movers) <= {user["Username"] for page in members for user in page["Users"]}
    assert [enabled(cognito, own_deployment, u) for u in movers] == [False, False, True, True]
    assert [[o["detail-type"] for o in audit.outcomes_for(c)] for c in correlation_ids] == [
        ["ActionSucceeded"]
    ] * len(correlation_ids)


def test_a_throttled_record_comes_back_after_its_visibility_timeout_and_is_applied(
    own_deployment: LocalDeployment,
    audit: Pipeline,
    sqs: Any,
    cognito: Any,
    unique: Callable[[str], str],
    short_visibility: Callable[[str], None],
) -> None:
    short_visibility("AdminDisableUser")
    first, throttled, last = existing_users(cognito, own_deployment, unique, 3)
    throttle = Throttle(throttled, times=2)
    correlation_id = {
        u: send(sqs, own_deployment, "AdminDisableUser", Username=u) for u in (first, throttled, last)
    }
    function = action_function(own_deployment, "AdminDisableUser", prepare=throttle.install)

    stats = LocalPipeline([function]).drain(timeout_s=30)

    # One batch of three with one failure, then the throttled record alone: failed, then applied.
    assert stats.functions[function.name] == FunctionStats(
        invocations=3, records_received=5, records_succeeded=3, records_failed=2, errors=0
    )
    assert throttle.answered == 2
    assert not any(enabled(cognito, own_deployment, u) for u in (first, throttled, last))
    assert [o["detail-type"] for o in audit.outcomes_for(correlation_id[throttled])] == ["ActionSucceeded"]
    assert audit.dead_letters("AdminDisableUser") == []


def test_a_record_failing_at_every_delivery_ends_in_the_dlq_after_max_receive_count(
    own_deployment: LocalDeployment,
    audit: Pipeline,
    sqs: Any,
    cognito: Any,
    unique: Callable[[str], str],
    short_visibility: Callable[[str], None],
) -> None:
    short_visibility("AdminDisableUser")
    (username,) = existing_users(cognito, own_deployment, unique, 1)
    throttle = Throttle(username)
    correlation_id = send(sqs, own_deployment, "AdminDisableUser", Username=username)
    function = action_function(own_deployment, "AdminDisableUser", prepare=throttle.install)

    stats = LocalPipeline([function]).drain(timeout_s=30)

    # Four batch item failures; on the fifth delivery the worker dead-letters it and acknowledges it.
    assert stats.functions[function.name] == FunctionStats(
        invocations=5, records_received=5, records_succeeded=1, records_failed=4, errors=0
    )
    (dead,) = audit.dead_letters("AdminDisableUser")
    assert json.loads(dead["Body"])["params"] == {"Username": username}
    reason = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
    assert (reason["Outcome"], reason["ErrorCode"], reason["ReceiveCount"]) == (
        "ActionFailed",
        "TooManyRequestsException",
        "5",
    )
    assert [o["detail-type"] for o in audit.outcomes_for(correlation_id)] == ["ActionFailed"]
    assert enabled(cognito, own_deployment, username)


def _raises(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("the function crashed")


def _names_a_stranger(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": "not-a-record-of-this-batch"}]}


@pytest.mark.parametrize("handler", [_raises, _names_a_stranger], ids=["raises", "invalid-response"])
def test_a_failed_invocation_fails_its_whole_batch_and_moto_redrives_it_after_max_receive_count(
    sqs: Any, unique: Callable[[str], str], handler: Handler
) -> None:
    dead_url, dead_arn = plain_queue(sqs, unique)
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2})
    url, arn = plain_queue(sqs, unique, VisibilityTimeout="1", RedrivePolicy=redrive)
    send_bodies(sqs, url, 2)
    function = QueueFunction(name="failing", queue_url=url, queue_arn=arn, handler_factory=lambda: handler)

    stats = LocalPipeline([function]).drain(timeout_s=30)

    # Both deliveries of the batch failed whole; the third receive moved both records to the DLQ.
    assert stats.functions["failing"] == FunctionStats(invocations=2, records_received=4, errors=2)
    dead = sqs.receive_message(QueueUrl=dead_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
    assert sorted(m["Body"] for m in dead["Messages"]) == ["body-0", "body-1"]


class ConcurrencyProbe:
    """A handler factory whose handlers record how many invocations run at once, overall and per
    execution environment."""

    def __init__(self, seconds_per_invocation: float) -> None:
        self._seconds = seconds_per_invocation
        self._lock = threading.Lock()
        self._running: Counter[int] = Counter()
        self.environments = 0
        self.peak = 0
        self.peak_per_environment = 0

    def __call__(self) -> Handler:
        with self._lock:
            self.environments += 1
            environment = self.environments

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            with self._lock:
                self._running[environment] += 1
                self.peak = max(self.peak, self._running.total())
                self.peak_per_environment = max(self.peak_per_environment, self._running[environment])
            time.sleep(self._seconds)
            with self._lock:
                self._running[environment] -= 1
            return {"batchItemFailures": []}

        return handler


def test_maximum_concurrency_bounds_the_invocations_and_each_runs_in_an_environment_of_its_own(
    sqs: Any, unique: Callable[[str], str]
) -> None:
    url, arn = plain_queue(sqs, unique)
    send_bodies(sqs, url, 12)
    probe = ConcurrencyProbe(seconds_per_invocation=0.2)
    tuning = EventSourceTuning(batch_size=1, maximum_concurrency=3)
    function = QueueFunction(
        name="probed", queue_url=url, queue_arn=arn, handler_factory=probe, tuning=tuning
    )

    stats = LocalPipeline([function]).drain(timeout_s=30)

    assert stats.functions["probed"] == FunctionStats(
        invocations=12, records_received=12, records_succeeded=12
    )
    assert (probe.peak, probe.environments, probe.peak_per_environment) == (3, 3, 1)


def test_serving_applies_commands_as_they_arrive_and_stops_cleanly(
    own_deployment: LocalDeployment, sqs: Any, cognito: Any, unique: Callable[[str], str]
) -> None:
    (username,) = existing_users(cognito, own_deployment, unique, 1)
    cognito.admin_disable_user(UserPoolId=own_deployment.user_pool_id, Username=username)
    pipeline = LocalPipeline([action_function(own_deployment, "AdminEnableUser")])

    with pipeline:
        send(sqs, own_deployment, "AdminEnableUser", Username=username)
        deadline = time.monotonic() + 20
        while not enabled(cognito, own_deployment, username) and time.monotonic() < deadline:
            time.sleep(0.1)

    assert not pipeline.running
    assert enabled(cognito, own_deployment, username)
    assert pipeline.stats().records_succeeded == 1


def test_drain_gives_up_after_its_timeout_naming_what_is_left(sqs: Any, unique: Callable[[str], str]) -> None:
    url, arn = plain_queue(sqs, unique, VisibilityTimeout="1")
    send_bodies(sqs, url, 1)
    pipeline = LocalPipeline(
        [QueueFunction(name="stuck", queue_url=url, queue_arn=arn, handler_factory=lambda: _raises)]
    )

    with pytest.raises(TimeoutError, match=r"not drained after 1.5 s: \{'stuck': 1\}"):
        pipeline.drain(timeout_s=1.5)

    assert not pipeline.running
    sqs.delete_queue(QueueUrl=url)


@pytest.mark.parametrize(
    ("knobs", "refusal"),
    [
        ({"batch_size": 11}, "batch_size over 10 needs a max_batching_window_seconds"),
        ({"batch_size": 0}, "batch_size: 1 to 10000"),
        ({"maximum_concurrency": 1}, "maximum_concurrency: 2 to 1000"),
        ({"max_batching_window_seconds": 301}, "max_batching_window_seconds: 0 to 300"),
        ({"timeout_seconds": 901}, "timeout_seconds: 1 to 900"),
    ],
)
def test_tuning_outside_lambdas_bounds_is_refused(knobs: dict[str, Any], refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        EventSourceTuning(**knobs)
