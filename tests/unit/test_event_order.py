"""A person's HR events have one total order, whatever mix of `sequence` and time they carry: every arrival
order of the same events ends in the same planner state.

The sequencer runs in memory against a model of one Cognito user (exists, enabled, groups), which answers
each command as the workers would (UserNotFoundException when there is no user); no server."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cognito_workers.lifecycle.events import parse_lifecycle_event
from cognito_workers.lifecycle.plans import Plan, PlannedCommand, plan_for
from cognito_workers.lifecycle.state import (
    PersonState,
    PlanArrived,
    StepEnded,
    TransitionInput,
    transition,
)

T0 = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
OUTCOME_TIME = T0 + datetime.timedelta(hours=1)
GROUPS = ("staff", "engineering")


class ModelUser:
    """What Cognito holds of the person, enough to answer the plans' commands."""

    def __init__(self) -> None:
        self.exists = False
        self.enabled = False
        self.groups: set[str] = set()

    def answer(self, command: PlannedCommand) -> tuple[str, dict[str, Any]]:
        detail: dict[str, Any] = {"idempotencyKey": command.idempotency_key, "username": "ada"}
        if command.action == "AdminCreateUser":
            if self.exists:
                return "ActionSkipped", detail
            self.exists, self.enabled = True, True
            return "ActionSucceeded", detail
        if not self.exists:
            return "ActionRejected", {**detail, "error": {"code": "UserNotFoundException", "message": ""}}
        group = command.params.get("GroupName")
        if command.action == "AdminDeleteUser":
            self.__init__()  # type: ignore[misc]
        elif command.action in {"AdminDisableUser", "AdminEnableUser"}:
            self.enabled = command.action == "AdminEnableUser"
        elif command.action == "AdminAddUserToGroup":
            self.groups.add(group)
        elif command.action == "AdminRemoveUserFromGroup":
            self.groups.discard(group)
        elif command.action == "AdminListGroupsForUser":
            detail["result"] = {"Groups": [{"GroupName": name} for name in sorted(self.groups)]}
        elif command.action == "AdminListDevices":
            detail["result"] = {"Devices": []}
        return "ActionSucceeded", detail


def run(plans: list[Plan], drain_after: list[bool]) -> PersonState:
    """The plans arrive in this order; after each, the outcomes so far are delivered or not yet."""
    state, user, in_flight = PersonState(username="ada"), ModelUser(), []

    def apply(given: TransitionInput) -> None:
        nonlocal state
        state, effects = transition(state, given, leaver_admitted=True)
        in_flight.extend(effects.commands)

    def drain() -> None:
        while in_flight:
            apply(StepEnded(*user.answer(in_flight.pop(0)), at=OUTCOME_TIME))

    for plan, then_drain in zip(plans, drain_after, strict=True):
        apply(PlanArrived(plan))
        if then_drain:
            drain()
    drain()
    return state


def event_plan(index: int, kind: str, sequence: int | None, seconds: int) -> Plan:
    detail: dict[str, Any] = {"employeeId": "E1", "username": "ada", "sequence": sequence}
    if kind == "EmployeeOnboarded":
        detail |= {"email": "ada@example.com", "sendInvitation": False, "groups": ["staff"]}
    elif kind == "EmployeeUpdated":
        detail |= {"groups": [GROUPS[index % 2]]}
    elif kind == "EmployeeOffboarded":
        detail |= {"deleteAfterDays": 0 if index % 2 else 30}
    event = parse_lifecycle_event(kind, detail)
    return plan_for(event, plan_id=f"event-{index}", event_time=T0 + datetime.timedelta(seconds=seconds))


events = st.lists(
    st.tuples(
        st.sampled_from(["EmployeeOnboarded", "EmployeeUpdated", "EmployeeOffboarded", "EmployeeRehired"]),
        st.one_of(st.none(), st.integers(0, 3)),
        st.integers(0, 3),
    ),
    min_size=2,
    max_size=4,
)


def outcome_of(state: PersonState) -> tuple[str | None, str | None, bool]:
    """What the arrival order must not change: the last plan started, the newest plan still waiting (for a
    joiner that never came: older waiting plans are the ones a different arrival order skipped as stale),
    and nothing left running."""
    newest_waiting = max(state.pending, key=lambda plan: plan.order_key) if state.pending else None
    return (
        state.last_started.plan_id if state.last_started else None,
        newest_waiting.plan_id if newest_waiting else None,
        state.active is None,
    )


@settings(max_examples=150, deadline=None)
@given(events=events, drains=st.lists(st.booleans(), min_size=4, max_size=4))
def test_every_arrival_order_of_a_persons_events_ends_in_the_same_state(
    events: list[tuple[str, int | None, int]], drains: list[bool]
) -> None:
    plans = [event_plan(index, *event) for index, event in enumerate(events)]
    endings = {outcome_of(run(list(order), drains[: len(order)])) for order in itertools.permutations(plans)}
    assert len(endings) == 1, endings
    ((_, _, idle),) = endings
    assert idle


def test_the_order_is_total_where_sequence_and_time_disagree() -> None:
    # A has a sequence and is late, C has a later sequence and is early, B has none: any two are ordered,
    # and the order is transitive, so one sort serves both the queue and the staleness check
    a = event_plan(0, "EmployeeUpdated", 1, seconds=10)
    b = event_plan(1, "EmployeeUpdated", None, seconds=5)
    c = event_plan(2, "EmployeeUpdated", 2, seconds=1)
    ordered = sorted([c, b, a], key=lambda plan: plan.order_key)
    assert [plan.plan_id for plan in ordered] == ["event-1", "event-0", "event-2"]
    assert all(first.precedes(second) for first, second in itertools.combinations(ordered, 2))
    assert not any(second.precedes(first) for first, second in itertools.combinations(ordered, 2))
