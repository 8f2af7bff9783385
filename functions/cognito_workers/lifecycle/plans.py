"""From an HR event to an ordered plan of ordinary commands.

A plan is a list of stages run one after another; the commands of one stage may run side by side, and the
stage ends when each has its outcome. A stage may be a read whose result becomes the next stage (forget
every device, leave every group, bring the groups to the desired set), following pagination.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cognito_workers.catalog import PLANNER
from cognito_workers.errors import CommandRejected
from cognito_workers.lifecycle.events import (
    EmployeeOffboarded,
    EmployeeOnboarded,
    EmployeeRehired,
    EmployeeUpdated,
    LifecycleEvent,
    cognito_attribute,
)

# Of two events of a person at the same time and sequence, the one earlier in a working life comes first.
_LIFECYCLE_ORDER = ("EmployeeOnboarded", "EmployeeUpdated", "EmployeeOffboarded", "EmployeeRehired")
PAGE_SIZE = 60  # the most AdminListDevices and AdminListGroupsForUser return at once

Expansion = Literal["forget_devices", "leave_groups", "converge_groups"]


class PlannedCommand(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: str
    params: dict[str, Any]
    idempotency_key: str
    plan_id: str

    def envelope(self) -> dict[str, Any]:
        """The command as the planner sends it; the plan (the HR event id) is its correlation id, and a
        rejection is the planner's to handle, not the DLQ's."""
        return {
            "idempotencyKey": self.idempotency_key,
            "correlationId": self.plan_id,
            "params": self.params,
            "deadLetterRejections": False,
        }


class Stage(BaseModel):
    """One step of a plan: commands to run, a read to expand, or a scheduled deletion to set or cancel."""

    model_config = ConfigDict(frozen=True)

    commands: tuple[PlannedCommand, ...] = ()
    expansion: Expansion | None = None
    desired_groups: tuple[str, ...] = ()
    collected: tuple[str, ...] = Field(default=(), description="Items read so far, across pages.")
    generation: int = Field(default=0, description="How many reads this stage has expanded from.")
    schedule_delete_at: datetime.datetime | None = None
    cancel_scheduled_delete: bool = False
    lock_out: bool = Field(default=False, description="A leaver's lock-out: it may run ahead of its turn.")

    def describe(self) -> str:
        if self.schedule_delete_at is not None:
            return f"schedule AdminDeleteUser at {self.schedule_delete_at.isoformat()}"
        parts = [f"{command.action} {_short_params(command.params)}" for command in self.commands]
        if self.cancel_scheduled_delete:
            parts.insert(0, "cancel the scheduled deletion")
        if self.expansion is not None:
            parts[-1] += f" -> then {self.expansion.replace('_', ' ')}"
        return "; ".join(parts) or "nothing to do"


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    plan_id: str
    event_type: str
    employee_id: str
    username: str
    sequence: int | None
    event_time: datetime.datetime
    stages: tuple[Stage, ...]
    repair: bool = Field(
        default=False,
        description="A reconciliation's repair: it states the pool as the HR snapshot wants it at its time, "
        "so it is stale only if a plan of a later event already started, whatever the sequences.",
    )

    @property
    def is_leaver(self) -> bool:
        return self.event_type == "EmployeeOffboarded"

    @property
    def is_joiner(self) -> bool:
        return self.event_type == "EmployeeOnboarded"

    @property
    def is_rehire(self) -> bool:
        return self.event_type == "EmployeeRehired"

    @property
    def order_key(self) -> tuple[bool, int, datetime.datetime, int, str]:
        """The one total order of a person's events, used by the queue and the staleness check alike:
        events that carry a `sequence` by it, after every event that carries none (a sequence is what an HR
        system promises to order by, so it outranks the clock); events without one by their time. Ties (the
        event time has whole seconds) go by the lifecycle (joiner, mover, leaver, rehire), then by event
        id."""
        return (
            self.sequence is not None,
            self.sequence or 0,
            self.event_time,
            _LIFECYCLE_ORDER.index(self.event_type),
            self.plan_id,
        )

    def precedes(self, other: Plan) -> bool:
        return self.order_key < other.order_key


def plan_for(
    event: LifecycleEvent, *, plan_id: str, event_time: datetime.datetime, repair: bool = False
) -> Plan:
    username = event.cognito_username
    builder = _StageBuilder(plan_id, username)
    if isinstance(event, EmployeeOnboarded):
        stages = _joiner(builder, event)
    elif isinstance(event, EmployeeOffboarded):
        stages = _leaver(builder, event, event_time)
    elif isinstance(event, EmployeeRehired):
        stages = [builder.stage(("AdminEnableUser", {})).model_copy(update={"cancel_scheduled_delete": True})]
        stages += _mover(builder, event)
    else:
        stages = _mover(builder, event)
    return Plan(
        plan_id=plan_id,
        event_type=event.kind,
        employee_id=event.employee_id,
        username=username,
        sequence=event.sequence,
        event_time=event_time,
        stages=tuple(stages),
        repair=repair,
    )


def expand(stage: Stage, result: dict[str, Any], *, plan: Plan, stage_index: int) -> Stage:
    """The stage that follows a read: the next page's read, or the commands the collected items call for."""
    builder = _StageBuilder(plan.plan_id, plan.username, label=f"{stage_index}.{stage.generation + 1}")
    if stage.expansion == "forget_devices":
        items = tuple(device["DeviceKey"] for device in result.get("Devices", []))
        token = result.get("PaginationToken")
    else:
        items = tuple(group["GroupName"] for group in result.get("Groups", []))
        token = result.get("NextToken")
    collected = stage.collected + items
    if token:
        (read,) = stage.commands
        token_name = "PaginationToken" if stage.expansion == "forget_devices" else "NextToken"
        next_read = builder.stage((read.action, {**_without_user(read.params), token_name: token}))
        following = next_read.model_copy(
            update={
                "expansion": stage.expansion,
                "desired_groups": stage.desired_groups,
                "collected": collected,
            }
        )
    elif stage.expansion == "forget_devices":
        following = builder.stage(*(("AdminForgetDevice", {"DeviceKey": key}) for key in collected))
    elif stage.expansion == "leave_groups":
        following = builder.stage(
            *(("AdminRemoveUserFromGroup", {"GroupName": group}) for group in collected)
        )
    else:
        current, desired = set(collected), set(stage.desired_groups)
        following = builder.stage(
            *(("AdminAddUserToGroup", {"GroupName": group}) for group in sorted(desired - current)),
            *(("AdminRemoveUserFromGroup", {"GroupName": group}) for group in sorted(current - desired)),
        )
    return following.model_copy(update={"generation": stage.generation + 1})


def _joiner(builder: _StageBuilder, event: EmployeeOnboarded) -> list[Stage]:
    create: dict[str, Any] = {
        "UserAttributes": [{"Name": name, "Value": value} for name, value in event.user_attributes.items()]
    }
    if event.send_invitation:
        create["DesiredDeliveryMediums"] = ["EMAIL"]
    else:
        create["MessageAction"] = "SUPPRESS"
    stages = [builder.stage(("AdminCreateUser", create))]
    if event.groups:
        stages.append(
            builder.stage(*(("AdminAddUserToGroup", {"GroupName": group}) for group in event.groups))
        )
    return stages


def _mover(builder: _StageBuilder, event: EmployeeUpdated) -> list[Stage]:
    stages: list[Stage] = []
    if event.attributes:
        to_set = [
            {"Name": cognito_attribute(name), "Value": value}
            for name, value in event.attributes.items()
            if value is not None
        ]
        to_delete = [cognito_attribute(name) for name, value in event.attributes.items() if value is None]
        commands: list[tuple[str, dict[str, Any]]] = []
        if to_set:
            commands.append(("AdminUpdateUserAttributes", {"UserAttributes": to_set}))
        if to_delete:
            commands.append(("AdminDeleteUserAttributes", {"UserAttributeNames": to_delete}))
        stages.append(builder.stage(*commands))
    if event.groups is not None:
        stages.append(
            builder.read("AdminListGroupsForUser", "converge_groups", desired_groups=tuple(event.groups))
        )
    return stages


def _leaver(builder: _StageBuilder, event: EmployeeOffboarded, event_time: datetime.datetime) -> list[Stage]:
    # Lock-out first, both at once: disabling stops sign-in and revokes the access tokens, the global sign-out
    # the refresh tokens, so neither needs the other to have applied.
    lock_out = builder.stage(*((action, {}) for action in PLANNER.lock_out_actions))
    stages = [
        lock_out.model_copy(update={"lock_out": True}),
        builder.read("AdminListDevices", "forget_devices"),
        builder.read("AdminListGroupsForUser", "leave_groups"),
    ]
    if event.delete_after_days == 0:
        stages.append(builder.stage(("AdminDeleteUser", {})))
    else:
        try:
            delete_at = event_time + datetime.timedelta(days=event.delete_after_days)
        except OverflowError:  # PutEvents lets a producer set any time, up to 9999-12-31
            raise CommandRejected(
                "InvalidEvent", f"time: too late to delete the user {event.delete_after_days} days after it"
            ) from None
        stages.append(
            builder.stage(("AdminDeleteUser", {})).model_copy(update={"schedule_delete_at": delete_at})
        )
    return stages


class _StageBuilder:
    """Numbers stages and commands so that every command's idempotency key is fixed by the plan itself: a
    plan step dispatched twice is still applied once."""

    def __init__(self, plan_id: str, username: str, *, label: str | None = None) -> None:
        self._plan_id = plan_id
        self._username = username
        self._label = label
        self._next_stage = 0

    def stage(self, *commands: tuple[str, dict[str, Any]]) -> Stage:
        """A stage numbered after the previous one, or labelled as the builder was told (an expansion)."""
        index_label = self._label or str(self._next_stage)
        self._next_stage += 1
        return Stage(
            commands=tuple(
                PlannedCommand(
                    action=action,
                    params={"Username": self._username, **params},
                    idempotency_key=f"{PLANNER.step_key_prefix}{self._plan_id}:{index_label}:{number}:{action}",
                    plan_id=self._plan_id,
                )
                for number, (action, params) in enumerate(commands)
            )
        )

    def read(self, action: str, expansion: Expansion, *, desired_groups: tuple[str, ...] = ()) -> Stage:
        return self.stage((action, {"Limit": PAGE_SIZE})).model_copy(
            update={"expansion": expansion, "desired_groups": desired_groups}
        )


def _without_user(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key != "Username"}


def _short_params(params: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in params.items() if key != "Username")
