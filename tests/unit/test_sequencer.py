"""The per-person sequencer: one plan at a time, stage after stage, later plans in event order, stale and
duplicate inputs change nothing, a failed step ends its plan, leavers over the threshold wait for release."""

from __future__ import annotations

import datetime
from typing import Any

from cognito_workers.lifecycle.events import parse_lifecycle_event
from cognito_workers.lifecycle.plans import Plan, PlannedCommand, plan_for
from cognito_workers.lifecycle.state import (
    Effects,
    OperatorRelease,
    PersonState,
    PlanArrived,
    StepEnded,
    TransitionInput,
    transition,
)

T0 = datetime.datetime(2026, 11, 26, 9, 0, tzinfo=datetime.UTC)


def plan(detail_type: str, plan_id: str, *, seconds: int = 0, **detail: Any) -> Plan:
    detail = {"employeeId": "E1", "username": "ada", **detail}
    if detail_type == "EmployeeOnboarded":
        detail = {"email": "ada@example.com", "sendInvitation": False, "groups": ["staff"], **detail}
    event = parse_lifecycle_event(detail_type, detail)
    return plan_for(event, plan_id=plan_id, event_time=T0 + datetime.timedelta(seconds=seconds))


class Person:
    """A person's state carried from transition to transition, as the planner's store does."""

    def __init__(self, admit: bool = True) -> None:
        self.state = PersonState(username="ada")
        self.admit = admit

    def accept(self, new_plan: Plan) -> Effects:
        return self._transition(PlanArrived(new_plan))

    def outcome(
        self, command: PlannedCommand, kind: str = "ActionSucceeded", *, seconds: int = 60, **detail: Any
    ) -> Effects:
        """The command's outcome, put on the bus `seconds` after T0."""
        detail = {"idempotencyKey": command.idempotency_key, "username": "ada", **detail}
        return self._transition(StepEnded(kind, detail, at=T0 + datetime.timedelta(seconds=seconds)))

    def release(self) -> Effects:
        return self._transition(OperatorRelease())

    def _transition(self, given: TransitionInput) -> Effects:
        self.state, effects = transition(self.state, given, leaver_admitted=self.admit)
        return effects


def audits(effects: Effects) -> list[str]:
    return [kind for kind, _ in effects.audits]


LOCK_OUT = ["AdminDisableUser", "AdminUserGlobalSignOut"]


def test_a_leaver_right_after_its_joiner_locks_out_once_the_user_exists_and_waits_for_the_rest() -> None:
    person = Person()
    started = person.accept(plan("EmployeeOnboarded", "join"))
    queued = person.accept(plan("EmployeeOffboarded", "leave", seconds=1))

    assert [c.action for c in started.commands] == ["AdminCreateUser"]
    assert audits(queued) == ["PlanQueued"]
    assert queued.commands == []  # no user yet: nothing to lock out
    (create,) = started.commands
    created = person.outcome(create)
    # The user exists: the joiner's groups and the leaver's lock-out go out together
    assert [c.action for c in created.commands] == ["AdminAddUserToGroup", *LOCK_OUT]
    add, disable, sign_out = created.commands
    assert audits(person.outcome(disable, seconds=4)) == []
    locked_out = person.outcome(sign_out, seconds=6)
    assert audits(locked_out) == ["LeaverLockedOut"]
    assert locked_out.audits[0][1].reason == "AheadOfTurn"
    assert locked_out.audits[0][1].lock_out_seconds == {
        "AdminDisableUser": 3.0,
        "AdminUserGlobalSignOut": 5.0,
    }
    # The rest of the leaver waits for the joiner, and does not lock out again
    leaver = person.outcome(add)
    assert audits(leaver) == ["PlanCompleted", "PlanStarted"]
    assert [c.action for c in leaver.commands] == ["AdminListDevices"]


def test_an_event_older_than_the_started_one_is_stale() -> None:
    person = Person()
    person.accept(plan("EmployeeOffboarded", "leave", sequence=3))

    effects = person.accept(plan("EmployeeUpdated", "move", sequence=2, attributes={"department": "Sales"}))

    assert audits(effects) == ["PlanSkipped"]
    assert effects.audits[0][1].reason == "Stale"
    assert effects.commands == []


def test_redelivered_events_and_outcomes_change_nothing() -> None:
    person = Person()
    joiner = plan("EmployeeOnboarded", "join")
    (create,) = person.accept(joiner).commands
    person.outcome(create)
    before = person.state.model_copy(deep=True)

    assert person.accept(joiner) == Effects()
    assert person.outcome(create) == Effects()
    assert person.state == before


def test_a_failed_step_ends_its_plan_and_the_next_plan_starts() -> None:
    person = Person()
    (create,) = person.accept(plan("EmployeeOnboarded", "join")).commands
    person.accept(plan("EmployeeUpdated", "move", seconds=5, attributes={"department": "Sales"}))

    effects = person.outcome(
        create, "ActionRejected", error={"code": "InvalidParameterException", "message": "x"}
    )

    assert audits(effects) == ["PlanFailed", "PlanStarted"]
    assert effects.audits[0][1].error is not None
    assert effects.audits[0][1].error.code == "InvalidParameterException"
    assert [c.action for c in effects.commands] == ["AdminUpdateUserAttributes"]


def test_reads_fan_out_into_one_command_per_item() -> None:
    person = Person()
    leaver = person.accept(plan("EmployeeOffboarded", "leave", deleteAfterDays=0))
    disable, sign_out = leaver.commands
    assert person.outcome(disable).commands == []
    (list_devices,) = person.outcome(sign_out).commands

    forget = person.outcome(list_devices, result={"Devices": [{"DeviceKey": "k1"}, {"DeviceKey": "k2"}]})

    assert [(c.action, c.params["DeviceKey"]) for c in forget.commands] == [
        ("AdminForgetDevice", "k1"),
        ("AdminForgetDevice", "k2"),
    ]
    first, second = forget.commands
    assert person.outcome(first).commands == []  # the stage waits for both
    (list_groups,) = person.outcome(second).commands
    assert list_groups.action == "AdminListGroupsForUser"
    (delete,) = person.outcome(list_groups, result={"Groups": []}).commands  # no group: straight on
    assert delete.action == "AdminDeleteUser"
    assert audits(person.outcome(delete)) == ["PlanCompleted"]


def test_a_grace_period_schedules_the_deletion_and_completes_the_plan() -> None:
    person = Person()
    disable, sign_out = person.accept(plan("EmployeeOffboarded", "leave", deleteAfterDays=7)).commands
    person.outcome(disable)
    (list_devices,) = person.outcome(sign_out).commands
    (list_groups,) = person.outcome(list_devices, result={"Devices": []}).commands

    effects = person.outcome(list_groups, result={"Groups": []})

    ((delete, at),) = effects.schedule_deletes
    assert delete.action == "AdminDeleteUser"
    assert at == T0 + datetime.timedelta(days=7)
    assert audits(effects) == ["PlanCompleted"]


def test_a_leaver_over_the_threshold_is_held_until_released() -> None:
    person = Person(admit=False)

    held = person.accept(plan("EmployeeOffboarded", "leave"))
    queued = person.accept(plan("EmployeeUpdated", "move", seconds=3, attributes={"a": "b"}))
    released = person.release()

    assert audits(held) == ["PlanHeld"]
    assert held.now_held
    assert held.commands == []
    assert audits(queued) == ["PlanQueued"]
    assert released.now_released
    assert [c.action for c in released.commands] == LOCK_OUT


NO_USER = {"code": "UserNotFoundException", "message": "User does not exist."}


def test_a_plan_that_finds_no_user_waits_for_its_joiner_delivered_late() -> None:
    # Given a mover that ran before its joiner's event came back (a crash redelivered the joiner late)
    person = Person()
    (first_step,) = person.accept(plan("EmployeeUpdated", "move", seconds=5, groups=["sales"])).commands

    # When its first step finds no user, then the joiner arrives
    waiting = person.outcome(first_step, "ActionRejected", error=NO_USER)
    joiner = person.accept(plan("EmployeeOnboarded", "join"))

    # Then the mover waits instead of failing, the older joiner runs, and the mover starts again after it
    assert audits(waiting) == ["PlanQueued"]
    assert waiting.audits[0][1].reason == "AwaitingJoiner"
    assert waiting.commands == []
    assert audits(joiner) == ["PlanStarted"]
    (create,) = joiner.commands
    (add,) = person.outcome(create).commands
    resumed = person.outcome(add)
    assert audits(resumed) == ["PlanCompleted", "PlanStarted"]
    assert resumed.audits[1][1].plan_id == "move"
    assert [c.idempotency_key for c in resumed.commands] == [first_step.idempotency_key]


def test_while_a_joiner_is_awaited_later_plans_wait_too() -> None:
    person = Person()
    (first_step,) = person.accept(plan("EmployeeUpdated", "move", seconds=5, groups=["sales"])).commands
    person.outcome(first_step, "ActionRejected", error=NO_USER)

    leaver = person.accept(plan("EmployeeOffboarded", "leave", seconds=10))

    assert audits(leaver) == ["PlanQueued"]
    assert leaver.commands == []
    assert [p.plan_id for p in person.state.pending] == ["move", "leave"]


def test_a_missing_user_after_its_joiner_ran_fails_the_plan() -> None:
    person = Person()
    (create,) = person.accept(plan("EmployeeOnboarded", "join")).commands
    (add,) = person.outcome(create).commands
    person.outcome(add)
    disable, _ = person.accept(plan("EmployeeOffboarded", "leave", seconds=5)).commands

    effects = person.outcome(disable, "ActionRejected", error=NO_USER)

    assert audits(effects) == ["PlanFailed"]
    assert person.state.pending == []


def test_a_step_that_gave_up_stalls_its_plan_until_the_redriven_step_succeeds() -> None:
    person = Person()
    (create,) = person.accept(plan("EmployeeOnboarded", "join")).commands
    (add,) = person.outcome(create).commands
    person.accept(plan("EmployeeOffboarded", "leave", seconds=5, deleteAfterDays=0))
    for lock_out_step in person.state.pending[0].stages[0].commands:  # dispatched ahead of its turn
        person.outcome(lock_out_step)

    stalled = person.outcome(add, "ActionFailed", error={"code": "TooManyRequestsException", "message": "x"})
    redriven = person.outcome(add)

    assert audits(stalled) == ["PlanStalled"]
    assert stalled.audits[0][1].error is not None
    assert stalled.audits[0][1].error.code == "TooManyRequestsException"
    assert stalled.commands == []
    assert [p.plan_id for p in person.state.pending] == []
    assert audits(redriven) == ["PlanCompleted", "PlanStarted"]
    assert [c.action for c in redriven.commands] == ["AdminListDevices"]


def test_a_stalled_step_rejected_when_redriven_ends_its_plan() -> None:
    person = Person()
    (create,) = person.accept(plan("EmployeeOnboarded", "join")).commands
    person.outcome(create, "ActionFailed", error={"code": "InternalErrorException", "message": "x"})

    effects = person.outcome(
        create, "ActionRejected", error={"code": "InvalidParameterException", "message": "x"}
    )

    assert audits(effects) == ["PlanFailed"]
    assert person.state.active is None


def test_an_event_between_the_last_started_plan_and_one_awaiting_its_joiner_is_not_stale() -> None:
    person = Person()
    disable, _ = person.accept(plan("EmployeeOffboarded", "leave", sequence=3)).commands
    person.outcome(disable, "ActionRejected", error=NO_USER)

    moved = person.accept(plan("EmployeeUpdated", "move", sequence=2, attributes={"department": "Sales"}))
    joined = person.accept(plan("EmployeeOnboarded", "join", sequence=1))

    assert audits(moved) == ["PlanQueued"]
    assert audits(joined) == ["PlanStarted"]
    assert [p.plan_id for p in person.state.pending] == ["move", "leave"]


def test_an_older_joiner_arriving_while_a_later_plan_runs_waits_for_its_outcome() -> None:
    person = Person()
    (update,) = person.accept(
        plan("EmployeeUpdated", "move", sequence=2, attributes={"department": "Sales"})
    ).commands

    queued = person.accept(plan("EmployeeOnboarded", "join", sequence=1))
    no_user = person.outcome(update, "ActionRejected", error=NO_USER)

    assert audits(queued) == ["PlanQueued"]
    assert audits(no_user) == ["PlanQueued", "PlanStarted"]
    assert [c.action for c in no_user.commands] == ["AdminCreateUser"]
    assert [p.plan_id for p in person.state.pending] == ["move"]


def test_an_older_joiner_that_waited_is_stale_once_the_later_plan_found_the_user() -> None:
    person = Person()
    (update,) = person.accept(
        plan("EmployeeUpdated", "move", sequence=2, attributes={"department": "Sales"})
    ).commands
    person.accept(plan("EmployeeOnboarded", "join", sequence=1))

    effects = person.outcome(update)

    assert audits(effects) == ["PlanCompleted", "PlanSkipped"]
    assert effects.audits[1][1].reason == "Stale"
    assert effects.commands == []
    assert person.state.pending == []


def test_a_rehire_started_by_its_leavers_last_stage_cancels_the_deletion_that_stage_scheduled() -> None:
    # Given a leaver with a grace period, and the person's rehire queued behind it
    person = Person()
    effects = person.accept(plan("EmployeeOffboarded", "leave", deleteAfterDays=30))
    person.accept(plan("EmployeeRehired", "rehire", seconds=1))
    # When the leaver's steps succeed, until the transition that ends the leaver starts the rehire
    in_flight = list(effects.commands)
    while not any(command.action == "AdminEnableUser" for command in effects.commands):
        effects = person.outcome(in_flight.pop(0), result={"Devices": []})
        in_flight += effects.commands
    # Then that transition cancels the deletion and schedules none: the rehired user is not deleted later
    assert effects.cancel_scheduled_delete
    assert effects.schedule_deletes == []


def onboarded_person() -> Person:
    """Ada, whose joiner has run to its end."""
    person = Person()
    (create,) = person.accept(plan("EmployeeOnboarded", "join")).commands
    (add,) = person.outcome(create).commands
    person.outcome(add)
    return person


def test_a_leaver_behind_a_running_mover_locks_out_at_once_and_leaves_after_it() -> None:
    person = onboarded_person()
    (list_groups,) = person.accept(plan("EmployeeUpdated", "move", seconds=5, groups=["sales"])).commands

    queued = person.accept(plan("EmployeeOffboarded", "leave", seconds=10, deleteAfterDays=0))

    assert audits(queued) == ["PlanQueued"]
    assert queued.starts_leaver  # the threshold is asked now, once
    assert [c.action for c in queued.commands] == LOCK_OUT
    for step in queued.commands:
        person.outcome(step, seconds=12)
    converge = person.outcome(list_groups, result={"Groups": [{"GroupName": "staff"}]})
    assert sorted(c.action for c in converge.commands) == ["AdminAddUserToGroup", "AdminRemoveUserFromGroup"]
    first, second = converge.commands
    person.outcome(first)
    in_turn = person.outcome(second)
    assert audits(in_turn) == ["PlanCompleted", "PlanStarted"]
    assert not in_turn.starts_leaver
    assert [c.action for c in in_turn.commands] == ["AdminListDevices"]


def test_a_leaver_in_its_turn_reports_its_lock_out_times_when_locked_out_and_when_completed() -> None:
    person = onboarded_person()
    disable, sign_out = person.accept(
        plan("EmployeeOffboarded", "leave", seconds=10, deleteAfterDays=0)
    ).commands

    person.outcome(disable, seconds=11)
    locked_out = person.outcome(sign_out, seconds=13)
    (list_devices,) = locked_out.commands
    (list_groups,) = person.outcome(list_devices, result={"Devices": []}).commands
    (delete,) = person.outcome(list_groups, result={"Groups": []}).commands
    completed = person.outcome(delete)

    times = {"AdminDisableUser": 1.0, "AdminUserGlobalSignOut": 3.0}
    assert audits(locked_out) == ["LeaverLockedOut"]
    assert locked_out.audits[0][1].lock_out_seconds == times
    assert locked_out.audits[0][1].reason is None
    assert audits(completed) == ["PlanCompleted"]
    assert completed.audits[0][1].lock_out_seconds == times


def test_a_rehire_queued_before_a_leaver_enables_the_user_before_the_leaver_locks_out() -> None:
    person = onboarded_person()
    (update,) = person.accept(plan("EmployeeUpdated", "move", seconds=5, attributes={"a": "b"})).commands
    person.accept(plan("EmployeeRehired", "rehire", seconds=6))

    queued = person.accept(plan("EmployeeOffboarded", "leave", seconds=7))
    (enable,) = person.outcome(update).commands
    enabled = person.outcome(enable)

    assert queued.commands == []
    assert enable.action == "AdminEnableUser"
    assert [c.action for c in enabled.commands] == LOCK_OUT  # ahead of the rehire's remaining stages


def test_a_leaver_over_the_threshold_does_not_lock_out_ahead_and_is_held_in_its_turn() -> None:
    person = onboarded_person()
    (update,) = person.accept(plan("EmployeeUpdated", "move", seconds=5, attributes={"a": "b"})).commands
    person.admit = False

    queued = person.accept(plan("EmployeeOffboarded", "leave", seconds=10))
    person.admit = True  # the window moved on: the verdict given ahead still holds
    in_turn = person.outcome(update)

    assert queued.commands == []
    assert queued.starts_leaver
    assert audits(in_turn) == ["PlanCompleted", "PlanHeld"]
    assert not in_turn.starts_leaver
    assert [c.action for c in person.release().commands] == LOCK_OUT


def test_a_lock_out_step_rejected_ahead_of_its_turn_runs_again_in_its_turn() -> None:
    person = onboarded_person()
    (update,) = person.accept(plan("EmployeeUpdated", "move", seconds=5, attributes={"a": "b"})).commands
    disable, sign_out = person.accept(plan("EmployeeOffboarded", "leave", seconds=10)).commands

    person.outcome(disable)
    rejected = person.outcome(sign_out, "ActionRejected", error={"code": "InternalError", "message": "x"})
    in_turn = person.outcome(update)

    assert audits(rejected) == []
    assert [c.idempotency_key for c in in_turn.commands] == [sign_out.idempotency_key]
    assert person.state.active is not None
    assert person.state.active.awaiting == {sign_out.idempotency_key: "AdminUserGlobalSignOut"}
