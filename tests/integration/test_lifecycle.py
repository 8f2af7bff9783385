"""The HR lifecycle end to end: bus -> rules -> planner -> bus -> rules -> action queues -> workers -> pool,
with each step's outcome routed back to the planner."""

from __future__ import annotations

import datetime
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cognito_workers.catalog import PLANNER
from cognito_workers.lifecycle.planner import LifecyclePlanner
from local_aws.deployment import HR_SOURCE, OPERATOR_SOURCE, LocalDeployment
from local_aws.lambda_sqs import configured_planner, deliver_batch
from tests.conftest import Pipeline


class Lifecycle:
    """Publishes HR events and runs the planner and the workers until every queue is empty."""

    def __init__(self, pipeline: Pipeline, planner: LifecyclePlanner) -> None:
        self.pipeline = pipeline
        self.deployment = pipeline.deployment
        self.planner = planner
        self.events = boto3.client("events")
        self.cognito_calls: list[str] = []

    def publish(self, detail_type: str, source: str = HR_SOURCE, **detail: Any) -> str:
        answer = self.events.put_events(
            Entries=[
                {
                    "EventBusName": self.deployment.event_bus_name,
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                }
            ]
        )
        return str(answer["Entries"][0]["EventId"])

    def onboard(self, username: str, groups: list[str], **detail: Any) -> str:
        """A joiner with an email of its own and no invitation sent."""
        return self.publish(
            "EmployeeOnboarded",
            employeeId=username.upper(),
            username=username,
            email=f"{username}@example.com",
            groups=groups,
            sendInvitation=False,
            **detail,
        )

    def run(self, max_rounds: int = 200) -> None:
        """Deliver batches round-robin until a whole round receives nothing."""
        for _ in range(max_rounds):
            received = self._deliver_planner()
            for action in self.deployment.queues:
                received += self.pipeline.deliver(action).received
            if received == 0:
                return
        raise AssertionError("the pipeline did not drain")

    def _deliver_planner(self) -> int:
        """A batch from each of the planner's queues (its own, and its lock-out lane's)."""
        return sum(
            deliver_batch(
                self.planner.handler,
                self.pipeline.sqs,
                queue_url=function.queue.url,
                queue_arn=function.queue.arn,
                function_name=function.function_name,
            ).received
            for function in self.deployment.planner_functions
        )

    def audits(self, plan_id: str) -> list[str]:
        self.pipeline.collect_outcomes()
        return [o["detail-type"] for o in self.pipeline.outcomes.get(plan_id, []) if "planId" in o["detail"]]


@pytest.fixture
def lifecycle(pipeline: Pipeline, deployment: LocalDeployment) -> Lifecycle:
    planner = configured_planner(deployment, LifecyclePlanner())
    return Lifecycle(pipeline, planner)


def user(cognito: Any, deployment: LocalDeployment, username: str) -> dict[str, Any]:
    return dict(cognito.admin_get_user(UserPoolId=deployment.user_pool_id, Username=username))


def groups_of(cognito: Any, deployment: LocalDeployment, username: str) -> set[str]:
    answer = cognito.admin_list_groups_for_user(UserPoolId=deployment.user_pool_id, Username=username)
    return {group["GroupName"] for group in answer["Groups"]}


def test_a_joiner_gets_an_account_and_groups(
    lifecycle: Lifecycle, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    username = unique("joiner")
    plan_id = lifecycle.onboard(username, ["staff", "engineering"], attributes={"department": "R&D"})

    lifecycle.run()

    created = user(cognito, deployment, username)
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert {"Name": "custom:employeeId", "Value": username.upper()} in created["UserAttributes"]
    assert groups_of(cognito, deployment, username) == {"staff", "engineering"}
    assert lifecycle.audits(plan_id) == ["PlanStarted", "PlanCompleted"]


def test_a_person_is_their_employee_id_a_leaver_without_username_reaches_the_joiners_user(
    lifecycle: Lifecycle, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    employee_id = unique("E-Only").upper()
    lifecycle.publish(
        "EmployeeOnboarded", employeeId=employee_id, email="e.only@example.com", sendInvitation=False
    )
    lifecycle.run()
    assert user(cognito, deployment, employee_id.lower())["Enabled"] is True

    plan_id = lifecycle.publish("EmployeeOffboarded", employeeId=employee_id, deleteAfterDays=0)
    lifecycle.run()

    with pytest.raises(ClientError, match="UserNotFoundException"):
        user(cognito, deployment, employee_id.lower())
    assert lifecycle.audits(plan_id) == ["PlanStarted", "LeaverLockedOut", "PlanCompleted"]


def test_a_mover_converges_groups_and_attributes(
    lifecycle: Lifecycle, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    username = unique("mover")
    cognito.admin_create_user(
        UserPoolId=deployment.user_pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "nickname", "Value": "old"}],
    )
    for group in ("staff", "contractors"):
        cognito.admin_add_user_to_group(
            UserPoolId=deployment.user_pool_id, Username=username, GroupName=group
        )

    lifecycle.publish(
        "EmployeeUpdated",
        employeeId="E7",
        username=username,
        groups=["staff", "managers"],
        attributes={"department": "Sales", "nickname": None},
    )
    lifecycle.run()

    assert groups_of(cognito, deployment, username) == {"staff", "managers"}
    attributes = {a["Name"]: a["Value"] for a in user(cognito, deployment, username)["UserAttributes"]}
    assert attributes["custom:department"] == "Sales"
    assert "nickname" not in attributes


def test_a_leaver_is_locked_out_cleaned_up_and_deleted(
    lifecycle: Lifecycle, cognito: Any, deployment: LocalDeployment, unique: Any, register_device: Any
) -> None:
    username = unique("leaver")
    cognito.admin_create_user(UserPoolId=deployment.user_pool_id, Username=username, MessageAction="SUPPRESS")
    cognito.admin_add_user_to_group(UserPoolId=deployment.user_pool_id, Username=username, GroupName="staff")
    for name in ("Phone", "Laptop"):
        register_device(deployment.user_pool_id, username, name)

    plan_id = lifecycle.publish("EmployeeOffboarded", employeeId="E8", username=username, deleteAfterDays=0)
    lifecycle.run()

    with pytest.raises(ClientError, match="UserNotFoundException"):
        user(cognito, deployment, username)
    assert lifecycle.audits(plan_id) == ["PlanStarted", "LeaverLockedOut", "PlanCompleted"]
    steps = [o["detail"]["action"] for o in lifecycle.pipeline.outcomes[plan_id] if "action" in o["detail"]]
    assert sorted(steps[:2]) == ["AdminDisableUser", "AdminUserGlobalSignOut"]  # lock-out, both at once
    assert steps[2:] == [
        "AdminListDevices",
        "AdminForgetDevice",
        "AdminForgetDevice",
        "AdminListGroupsForUser",
        "AdminRemoveUserFromGroup",
        "AdminDeleteUser",
    ]


def test_a_leaver_with_a_grace_period_is_disabled_now_and_deleted_on_schedule(
    lifecycle: Lifecycle, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    username = unique("leaver")
    cognito.admin_create_user(UserPoolId=deployment.user_pool_id, Username=username, MessageAction="SUPPRESS")

    lifecycle.publish("EmployeeOffboarded", employeeId="E9", username=username, deleteAfterDays=30)
    lifecycle.run()

    assert user(cognito, deployment, username)["Enabled"] is False
    # In the group the stack gives the planner, where `aws scheduler list-schedules --group-name` finds it.
    group = deployment.outputs["DeletionScheduleGroupName"]
    scheduler = boto3.client("scheduler")
    schedules = scheduler.list_schedules(GroupName=group, NamePrefix="delete-user-")["Schedules"]
    details = [scheduler.get_schedule(Name=s["Name"], GroupName=group) for s in schedules]
    (mine,) = [d for d in details if json.loads(d["Target"]["Input"])["params"]["Username"] == username]
    assert mine["Target"]["Arn"] == deployment.queues["AdminDeleteUser"].arn
    assert mine["Target"]["DeadLetterConfig"] == {"Arn": deployment.queues["AdminDeleteUser"].dead_letter_arn}
    assert mine["ScheduleExpression"].startswith("at(")
    due = datetime.datetime.fromisoformat(mine["ScheduleExpression"][3:-1])
    assert datetime.timedelta(days=29) < due - datetime.datetime.now() < datetime.timedelta(days=31)


def test_a_leaver_published_right_after_its_joiner_locks_out_once_the_user_exists_then_leaves_after_it(
    lifecycle: Lifecycle, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    # The leaver takes the lock-out lane, its joiner the planner's queue: whichever comes first, the order
    # holds
    username = unique("brief")
    join = lifecycle.onboard(username, ["staff", "engineering"])
    leave = lifecycle.publish(
        "EmployeeOffboarded", employeeId=username.upper(), username=username, deleteAfterDays=0
    )

    lifecycle.run()

    with pytest.raises(ClientError, match="UserNotFoundException"):
        user(cognito, deployment, username)
    assert lifecycle.audits(join) == ["PlanStarted", "PlanCompleted"]
    leaver_audits = lifecycle.audits(leave)
    assert sorted(leaver_audits) == ["LeaverLockedOut", "PlanCompleted", "PlanQueued", "PlanStarted"]
    assert leaver_audits[0] == "PlanQueued"
    joiner_steps = [o for o in lifecycle.pipeline.outcomes[join] if "action" in o["detail"]]
    leaver_steps = [o for o in lifecycle.pipeline.outcomes[leave] if "action" in o["detail"]]
    created = min(o["time"] for o in joiner_steps if o["detail"]["action"] == "AdminCreateUser")
    lock_out = [o for o in leaver_steps if o["detail"]["action"] in PLANNER.lock_out_actions]
    assert sorted(o["detail"]["action"] for o in lock_out) == sorted(PLANNER.lock_out_actions)
    assert {o["detail-type"] for o in lock_out} == {"ActionSucceeded"}
    assert created <= min(o["time"] for o in lock_out)
    last_joiner_step = max(o["time"] for o in joiner_steps)
    assert last_joiner_step <= min(o["time"] for o in leaver_steps if o not in lock_out)
    removed = {
        o["detail"]["result"] is not None
        for o in leaver_steps
        if o["detail"].get("action") == "AdminRemoveUserFromGroup"
    }
    assert removed == {True}


def test_a_dry_run_shows_the_plan_and_changes_nothing(
    lifecycle: Lifecycle, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    username = unique("dry")
    plan_id = lifecycle.publish(
        "EmployeeOnboarded",
        employeeId="E11",
        username=username,
        email="d@example.com",
        sendInvitation=True,
        dryRun=True,
    )

    lifecycle.run()

    with pytest.raises(ClientError, match="UserNotFoundException"):
        user(cognito, deployment, username)
    (computed,) = lifecycle.pipeline.outcomes_for(plan_id)
    assert computed["detail-type"] == "PlanComputed"
    assert computed["detail"]["stages"][0].startswith("AdminCreateUser")


def test_a_bad_hr_event_is_rejected_with_its_reason_and_never_planned(
    lifecycle: Lifecycle, deployment: LocalDeployment
) -> None:
    event_id = lifecycle.publish("EmployeeOnboarded", employeeId="E12", sendInvitation=True)

    lifecycle.run()

    dead = lifecycle.pipeline.sqs.receive_message(
        QueueUrl=deployment.planner_queue.dead_letter_url, MessageAttributeNames=["All"]
    )["Messages"]
    reasons = [m["MessageAttributes"]["ErrorMessage"]["StringValue"] for m in dead if event_id in m["Body"]]
    assert reasons == ["detail.email: Field required"]
    lifecycle.pipeline.collect_outcomes()
    rejected = [
        o
        for found in lifecycle.pipeline.outcomes.values()
        for o in found
        if o["detail"].get("eventId") == event_id
    ]
    assert [o["detail-type"] for o in rejected] == ["LifecycleEventRejected"]


def test_leavers_over_the_threshold_are_held_until_an_operator_releases_them(
    lifecycle: Lifecycle, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    settings = deployment.planner_settings().model_copy(update={"leaver_threshold": 1})
    lifecycle.planner.consumer.settings = settings
    usernames = [unique("mass-leaver") for _ in range(3)]
    for username in usernames:
        cognito.admin_create_user(
            UserPoolId=deployment.user_pool_id, Username=username, MessageAction="SUPPRESS"
        )
    plans = [
        lifecycle.publish("EmployeeOffboarded", employeeId=username, username=username, deleteAfterDays=0)
        for username in usernames
    ]

    lifecycle.run()

    assert [lifecycle.audits(plan)[0] for plan in plans].count("PlanHeld") >= 2
    still_there = [u for u in usernames if _exists(cognito, deployment, u)]
    assert len(still_there) >= 2
    assert all(user(cognito, deployment, u)["Enabled"] for u in still_there)  # not even locked out

    lifecycle.publish("DeprovisioningReleased", source=OPERATOR_SOURCE)
    lifecycle.run()

    assert not any(_exists(cognito, deployment, u) for u in usernames)


def _exists(cognito: Any, deployment: LocalDeployment, username: str) -> bool:
    try:
        user(cognito, deployment, username)
    except ClientError:
        return False
    return True
