"""HR events become ordered plans of ordinary commands; reads expand into the commands they call for."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from cognito_workers.catalog import ACTIONS_BY_NAME, PLANNER
from cognito_workers.errors import CommandRejected
from cognito_workers.lifecycle.events import EVENT_TYPES, parse_lifecycle_event
from cognito_workers.lifecycle.plans import Plan, Stage, expand, plan_for

NOW = datetime.datetime(2026, 11, 26, 9, 0, tzinfo=datetime.UTC)


def planned(detail_type: str, **detail: Any) -> Plan:
    return plan_for(parse_lifecycle_event(detail_type, detail), plan_id="evt-1", event_time=NOW)


def actions(stage: Stage) -> list[str]:
    return [command.action for command in stage.commands]


def test_the_planner_consumes_exactly_the_lifecycle_event_types() -> None:
    assert set(EVENT_TYPES) == set(PLANNER.event_types)


def test_a_joiner_is_created_then_added_to_each_group() -> None:
    plan = planned(
        "EmployeeOnboarded",
        employeeId="E042",
        email="ada@example.com",
        givenName="Ada",
        groups=["staff", "engineering"],
        attributes={"department": "R&D", "locale": "en-GB"},
        sendInvitation=False,
    )

    create, groups = plan.stages
    (command,) = create.commands
    assert command.params["Username"] == "e042"  # derived: the employeeId, lower-cased
    assert command.params["MessageAction"] == "SUPPRESS"
    assert {"Name": "custom:employeeId", "Value": "E042"} in command.params["UserAttributes"]
    assert {"Name": "custom:department", "Value": "R&D"} in command.params["UserAttributes"]
    assert {"Name": "locale", "Value": "en-GB"} in command.params["UserAttributes"]
    assert {"Name": "given_name", "Value": "Ada"} in command.params["UserAttributes"]
    assert [c.params["GroupName"] for c in groups.commands] == ["staff", "engineering"]


@pytest.mark.parametrize(
    ("detail_type", "detail"),
    [("EmployeeUpdated", {"groups": []}), ("EmployeeOffboarded", {}), ("EmployeeRehired", {})],
)
def test_every_hr_event_without_username_reaches_the_user_the_joiner_derived(
    detail_type: str, detail: dict[str, Any]
) -> None:
    plan = planned(detail_type, employeeId="E042", **detail)

    assert plan.username == "e042"
    assert {c.params["Username"] for stage in plan.stages for c in stage.commands} == {"e042"}


def test_an_invitation_is_sent_by_email_when_asked() -> None:
    plan = planned("EmployeeOnboarded", employeeId="E1", email="a@example.com", sendInvitation=True)

    (command,) = plan.stages[0].commands
    assert command.params["DesiredDeliveryMediums"] == ["EMAIL"]
    assert "MessageAction" not in command.params


def test_a_leaver_is_locked_out_first_and_deleted_after_the_grace_period() -> None:
    plan = planned("EmployeeOffboarded", employeeId="E1", username="ada", deleteAfterDays=30)

    assert [actions(stage) for stage in plan.stages] == [
        ["AdminDisableUser", "AdminUserGlobalSignOut"],
        ["AdminListDevices"],
        ["AdminListGroupsForUser"],
        ["AdminDeleteUser"],
    ]
    assert [stage.lock_out for stage in plan.stages] == [True, False, False, False]
    assert plan.stages[1].expansion == "forget_devices"
    assert plan.stages[2].expansion == "leave_groups"
    assert plan.stages[3].schedule_delete_at == NOW + datetime.timedelta(days=30)


def test_a_leaver_whose_deletion_date_is_past_the_calendar_is_rejected_naming_the_time() -> None:
    # Found by tests/fuzz: the OverflowError was retried as a defect, then dead-lettered as failed.
    event = parse_lifecycle_event("EmployeeOffboarded", {"employeeId": "E1", "username": "ada"})
    last_day = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)

    with pytest.raises(CommandRejected) as rejected:
        plan_for(event, plan_id="evt-1", event_time=last_day)

    assert (rejected.value.code, rejected.value.message) == (
        "InvalidEvent",
        "time: too late to delete the user 30 days after it",
    )


def test_a_leaver_with_no_grace_period_is_deleted_in_the_plan() -> None:
    plan = planned("EmployeeOffboarded", employeeId="E1", username="ada", deleteAfterDays=0)

    assert actions(plan.stages[-1]) == ["AdminDeleteUser"]
    assert plan.stages[-1].schedule_delete_at is None


def test_a_mover_sets_and_deletes_attributes_then_converges_groups() -> None:
    plan = planned(
        "EmployeeUpdated",
        employeeId="E1",
        username="ada",
        groups=["staff", "managers"],
        attributes={"department": "Sales", "nickname": None},
    )

    attributes, groups = plan.stages
    assert actions(attributes) == ["AdminUpdateUserAttributes", "AdminDeleteUserAttributes"]
    assert attributes.commands[1].params["UserAttributeNames"] == ["nickname"]
    converged = expand(
        groups, {"Groups": [{"GroupName": "staff"}, {"GroupName": "contractors"}]}, plan=plan, stage_index=1
    )
    assert [(c.action, c.params["GroupName"]) for c in converged.commands] == [
        ("AdminAddUserToGroup", "managers"),
        ("AdminRemoveUserFromGroup", "contractors"),
    ]


def test_a_rehire_cancels_the_deletion_and_enables_the_user() -> None:
    plan = planned("EmployeeRehired", employeeId="E1", username="ada", groups=["staff"])

    assert plan.stages[0].cancel_scheduled_delete
    assert actions(plan.stages[0]) == ["AdminEnableUser"]
    assert plan.stages[1].expansion == "converge_groups"


def test_reads_follow_pagination_before_expanding() -> None:
    plan = planned("EmployeeOffboarded", employeeId="E1", username="ada")
    devices = plan.stages[1]

    second_page = expand(
        devices, {"Devices": [{"DeviceKey": "k1"}], "PaginationToken": "t"}, plan=plan, stage_index=1
    )
    forget = expand(second_page, {"Devices": [{"DeviceKey": "k2"}]}, plan=plan, stage_index=1)

    assert second_page.commands[0].params["PaginationToken"] == "t"
    assert [c.params["DeviceKey"] for c in forget.commands] == ["k1", "k2"]
    keys = [c.idempotency_key for stage in (devices, second_page, forget) for c in stage.commands]
    assert len(set(keys)) == len(keys)  # every step of a plan has its own idempotency key


def test_every_planned_command_is_valid_for_its_action() -> None:
    plans = [
        planned(
            "EmployeeOnboarded", employeeId="E1", email="a@example.com", groups=["g"], sendInvitation=True
        ),
        planned("EmployeeUpdated", employeeId="E1", username="ada", attributes={"a": "1", "b": None}),
        planned("EmployeeOffboarded", employeeId="E1", username="ada", deleteAfterDays=0),
        planned("EmployeeRehired", employeeId="E1", username="ada"),
    ]
    for plan in plans:
        for stage in plan.stages:
            for command in stage.commands:
                ACTIONS_BY_NAME[command.action].params_model.model_validate(
                    {"UserPoolId": "us-east-1_Pool1", **command.params}
                )


@pytest.mark.parametrize(
    ("detail_type", "detail", "reason"),
    [
        ("EmployeeOnboarded", {"employeeId": "E1", "sendInvitation": True}, "detail.email: Field required"),
        (
            "EmployeeOnboarded",
            {"employeeId": "E1", "email": "nope", "sendInvitation": True},
            "detail.email: String",
        ),
        (
            "EmployeeOnboarded",
            {"employeeId": "a b", "email": "a@b.co", "sendInvitation": True},
            "detail.employeeId",
        ),
        (
            "EmployeeOffboarded",
            {"employeeId": "a b"},
            "detail.employeeId: cannot serve as a username; give detail.username",
        ),
        (
            "EmployeeOffboarded",
            {"employeeId": "E1", "username": "ada", "deleteAfterDays": -1},
            "detail.deleteAfterDays",
        ),
        (
            "EmployeeUpdated",
            {"employeeId": "E1", "username": "ada", "groups": "staff"},
            "detail.groups: Input should",
        ),
        (
            "EmployeeUpdated",
            {"employeeId": "E1", "username": "ada", "extra": 1},
            "detail.extra: Extra inputs",
        ),
        ("EmployeeFired", {"employeeId": "E1"}, "detail-type: 'EmployeeFired' is not a lifecycle event"),
    ],
)
def test_bad_hr_events_are_rejected_naming_the_field(
    detail_type: str, detail: dict[str, Any], reason: str
) -> None:
    with pytest.raises(CommandRejected) as rejection:
        parse_lifecycle_event(detail_type, detail)

    assert rejection.value.message.startswith(reason)
