"""A person's phases: each change of phase PHASE_CHANGES lists happens, as the table says, and no other;
the README's diagram is the table's."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cognito_workers.lifecycle import state as lifecycle_state
from cognito_workers.lifecycle.events import parse_lifecycle_event
from cognito_workers.lifecycle.plans import Plan, PlannedCommand, plan_for
from cognito_workers.lifecycle.state import (
    PHASE_CHANGES,
    OperatorRelease,
    PersonState,
    Phase,
    PhaseChangeRefused,
    PlanArrived,
    StepEnded,
    TransitionInput,
    phase_diagram,
    transition,
)

README = Path(__file__).resolve().parents[2] / "README.md"
T0 = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)


def plan(detail_type: str, plan_id: str, sequence: int, **detail: Any) -> Plan:
    detail = {"employeeId": "E1", "username": "ada", "sequence": sequence, **detail}
    if detail_type == "EmployeeOnboarded":
        detail = {"email": "ada@example.com", "sendInvitation": False, **detail}
    return plan_for(parse_lifecycle_event(detail_type, detail), plan_id=plan_id, event_time=T0)


class Person:
    def __init__(self, *, leaver_admitted: bool = True) -> None:
        self.state = PersonState(username="ada")
        self.leaver_admitted = leaver_admitted
        self.changes: list[tuple[Phase, Phase]] = []
        self.commands: list[PlannedCommand] = []

    def given(self, given: TransitionInput) -> None:
        before = self.state.phase
        self.state, effects = transition(self.state, given, leaver_admitted=self.leaver_admitted)
        self.commands.extend(effects.commands)
        if self.state.phase != before:
            self.changes.append((before, self.state.phase))

    def step_ends(self, outcome: str = "ActionSucceeded", **detail: Any) -> None:
        command = self.commands.pop(0)
        self.given(
            StepEnded(
                outcome,
                {"idempotencyKey": command.idempotency_key, "username": "ada", **detail},
                at=datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC),
            )
        )


def a_joiner_runs_and_ends() -> list[tuple[Phase, Phase]]:
    person = Person()
    person.given(PlanArrived(plan("EmployeeOnboarded", "join", 1)))
    person.step_ends()
    return person.changes


def a_leaver_over_the_threshold_is_held_until_released() -> list[tuple[Phase, Phase]]:
    person = Person(leaver_admitted=False)
    person.given(PlanArrived(plan("EmployeeOffboarded", "leave", 2)))
    person.given(OperatorRelease())
    return person.changes


def a_leaver_behind_a_running_plan_is_held_when_its_turn_comes() -> list[tuple[Phase, Phase]]:
    person = Person(leaver_admitted=False)
    person.given(PlanArrived(plan("EmployeeOnboarded", "join", 1)))
    person.given(PlanArrived(plan("EmployeeOffboarded", "leave", 2)))
    person.step_ends()
    return person.changes


def a_plan_that_finds_no_user_waits_for_the_joiner() -> list[tuple[Phase, Phase]]:
    person = Person()
    person.given(PlanArrived(plan("EmployeeUpdated", "move", 2, attributes={"department": "Sales"})))
    person.step_ends("ActionRejected", error={"code": "UserNotFoundException", "message": ""})
    person.given(PlanArrived(plan("EmployeeOnboarded", "join", 1)))
    return person.changes


SCENARIOS: dict[Callable[[], list[tuple[Phase, Phase]]], list[tuple[Phase, Phase]]] = {
    a_joiner_runs_and_ends: [(Phase.IDLE, Phase.RUNNING), (Phase.RUNNING, Phase.IDLE)],
    a_leaver_over_the_threshold_is_held_until_released: [
        (Phase.IDLE, Phase.HELD),
        (Phase.HELD, Phase.RUNNING),
    ],
    a_leaver_behind_a_running_plan_is_held_when_its_turn_comes: [
        (Phase.IDLE, Phase.RUNNING),
        (Phase.RUNNING, Phase.HELD),
    ],
    a_plan_that_finds_no_user_waits_for_the_joiner: [
        (Phase.IDLE, Phase.RUNNING),
        (Phase.RUNNING, Phase.AWAITING_JOINER),
        (Phase.AWAITING_JOINER, Phase.RUNNING),
    ],
}


@pytest.mark.parametrize(
    ("scenario", "expected"), SCENARIOS.items(), ids=lambda item: getattr(item, "__name__", "")
)
def test_a_scenario_changes_phases_as_the_table_says(
    scenario: Callable[[], list[tuple[Phase, Phase]]], expected: list[tuple[Phase, Phase]]
) -> None:
    assert scenario() == expected


def test_every_change_the_table_lists_happens_in_a_scenario() -> None:
    happened = {change for scenario in SCENARIOS for change in scenario()}
    assert {(before, after) for before, _, after in PHASE_CHANGES} == happened


def test_a_change_the_table_does_not_list_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle_state, "_ALLOWED_CHANGES", frozenset())
    with pytest.raises(PhaseChangeRefused, match="Idle -> Running"):
        transition(
            PersonState(username="ada"), PlanArrived(plan("EmployeeOnboarded", "j", 1)), leaver_admitted=True
        )


def test_the_readme_draws_the_table() -> None:
    drawn = README.read_text().split("<!-- phase-diagram -->\n```mermaid\n")[1].split("\n```")[0]
    assert drawn == phase_diagram()


def test_a_state_saved_before_phases_reads_as_its_phase() -> None:
    waiting = PersonState.model_validate({"username": "ada", "awaiting_joiner": True})
    assert waiting.phase is Phase.AWAITING_JOINER
    person = Person(leaver_admitted=False)
    person.given(PlanArrived(plan("EmployeeOffboarded", "leave", 2)))
    legacy = person.state.model_dump(exclude={"phase"})
    legacy["active"]["held"] = True
    assert PersonState.model_validate(legacy).phase is Phase.HELD
