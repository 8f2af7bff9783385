"""One-time EventBridge Scheduler schedules, kept by the local scheduler on a clock the test moves."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_aws.deployment import LocalDeployment
from local_aws.pipeline import LocalPipeline, action_function
from local_aws.scheduler import LocalScheduler, due_time

DUE = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


class Clock:
    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now


# The role the service would assume to send; moto does not check it.
ROLE_ARN = "arn:aws:iam::123456789012:role/scheduler"


@pytest.fixture(scope="module")
def scheduler(local_aws: Any) -> Any:
    return boto3.client("scheduler")


@pytest.fixture
def group(scheduler: Any, unique: Callable[[str], str]) -> str:
    """A group of the test's own: the scheduler under test leaves every other schedule alone."""
    name = unique("group")
    scheduler.create_schedule_group(Name=name)
    return name


@pytest.fixture
def queue(sqs: Any, unique: Callable[[str], str]) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=unique("scheduled"))["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def schedule(
    scheduler: Any,
    group: str,
    name: str,
    at: datetime.datetime,
    target_arn: str,
    body: str,
    after: str = "DELETE",
) -> str:
    answer = scheduler.create_schedule(
        Name=name,
        GroupName=group,
        ScheduleExpression=f"at({at:%Y-%m-%dT%H:%M:%S})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target_arn, "RoleArn": ROLE_ARN, "Input": body},
        ActionAfterCompletion=after,
    )
    return str(answer["ScheduleArn"])


def bodies(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(message["Body"] for message in messages)


def names(scheduler: Any, group: str) -> set[str]:
    return {summary["Name"] for summary in scheduler.list_schedules(GroupName=group)["Schedules"]}


def test_a_due_schedule_fires_once_and_is_deleted_and_an_undue_one_waits(
    scheduler: Any, sqs: Any, group: str, queue: tuple[str, str]
) -> None:
    url, arn = queue
    due = schedule(scheduler, group, "due", DUE, arn, '{"n": 1}')
    schedule(scheduler, group, "tomorrow", DUE + datetime.timedelta(days=1), arn, '{"n": 2}')
    clock = Clock(DUE + datetime.timedelta(seconds=1))
    local = LocalScheduler(clock, group_names=[group])

    fired = [local.fire_due(), local.fire_due()]

    assert fired == [[due], []]
    assert bodies(sqs, url) == ['{"n": 1}']
    assert names(scheduler, group) == {"tomorrow"}
    clock.now += datetime.timedelta(days=1)
    assert len(local.fire_due()) == 1
    assert names(scheduler, group) == set()


def test_a_schedule_kept_after_completion_fires_once(
    scheduler: Any, sqs: Any, group: str, queue: tuple[str, str]
) -> None:
    url, arn = queue
    schedule(scheduler, group, "kept", DUE, arn, "<aws.scheduler.scheduled-time>", after="NONE")
    local = LocalScheduler(Clock(DUE), group_names=[group])

    assert [len(local.fire_due()) for _ in range(3)] == [1, 0, 0]
    assert bodies(sqs, url) == ["2026-12-01T00:00:00Z"]
    assert names(scheduler, group) == {"kept"}


def test_schedules_it_does_not_keep_are_left_alone(
    scheduler: Any, sqs: Any, group: str, queue: tuple[str, str]
) -> None:
    url, arn = queue
    scheduler.create_schedule(
        Name="recurring",
        GroupName=group,
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": ROLE_ARN, "Input": "{}"},
    )
    topic = "arn:aws:sns:us-east-1:123456789012:elsewhere"
    schedule(scheduler, group, "not-sqs", DUE, topic, "{}")

    assert LocalScheduler(Clock(DUE), group_names=[group]).fire_due() == []
    assert bodies(sqs, url) == []
    assert names(scheduler, group) == {"recurring", "not-sqs"}


@pytest.mark.parametrize(
    ("expression", "zone", "due"),
    [
        ("at(2026-12-01T01:00:00)", "Europe/Berlin", DUE),
        ("at(2026-12-01T00:00:00)", None, DUE),
        ("rate(5 minutes)", None, None),
        ("cron(0 9 * * ? *)", "UTC", None),
    ],
)
def test_due_time_reads_the_expression_in_its_timezone(
    expression: str, zone: str | None, due: datetime.datetime | None
) -> None:
    answer = {"ScheduleExpression": expression, **({"ScheduleExpressionTimezone": zone} if zone else {})}

    assert due_time(answer) == due


def test_the_pipeline_keeps_the_schedule_and_the_worker_applies_the_scheduled_command(
    own_deployment: LocalDeployment, scheduler: Any, cognito: Any, group: str, unique: Callable[[str], str]
) -> None:
    username = unique("leaver")
    cognito.admin_create_user(
        UserPoolId=own_deployment.user_pool_id, Username=username, MessageAction="SUPPRESS"
    )
    command = {
        "action": "AdminDeleteUser",
        "idempotencyKey": f"{username}:delete",
        "params": {"Username": username},
    }
    delete_queue = own_deployment.queues["AdminDeleteUser"]
    schedule(scheduler, group, "delete-leaver", DUE, delete_queue.arn, json.dumps(command))
    clock = Clock(DUE - datetime.timedelta(minutes=1))
    pipeline = LocalPipeline(
        [action_function(own_deployment, "AdminDeleteUser")],
        scheduler=LocalScheduler(clock, group_names=[group]),
    )

    assert pipeline.drain(timeout_s=30).records_received == 0
    clock.now = DUE
    stats = pipeline.drain(timeout_s=30)

    assert (stats.records_received, stats.records_succeeded) == (1, 1)
    with pytest.raises(ClientError, match="UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=own_deployment.user_pool_id, Username=username)
    assert names(scheduler, group) == set()
