"""The per-person sequencer: which plan runs, which step it waits on, what comes next.

Pure transitions over a person's state; the planner loads the state, applies one transition, saves the
state with its effects, then publishes them (planner.py). A person runs one plan at a time, stage after
stage; later plans wait their turn in event order; an event older than one already started is stale and
skipped. Outcomes that do not match a step being waited on (duplicates, other producers' commands) change
nothing.

A step that gave up on a transient cause (ActionFailed: its command is in the action's DLQ) stalls its
plan rather than ending it: the plan still waits for that step, and the person's later plans wait behind
it. Redriving the DLQ once the cause is fixed applies the step, and its outcome moves the plan on. Ending
the plan instead would let the next plan run first and the redriven step apply after it, stale (a user
put back in a group its leaver had emptied). A rejected step (ActionRejected) ends its plan.

A crash can deliver a joiner after a later event of the same person (its batch comes back after the
visibility timeout). When a plan of a person no joiner has started for finds no user in Cognito, it goes
back to wait for the joiner instead of failing, and that joiner is then let in although it is older than
the plan that started: the joiner runs, then the waiting plans in event order. Such a joiner that arrives
while that later plan still runs waits for its outcome: if the plan finds no user, the joiner runs first;
if the user was there after all, the joiner is stale.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from cognito_workers.contracts import OutcomeError
from cognito_workers.lifecycle.plans import Plan, PlannedCommand, Stage, expand

REJECTED = "ActionRejected"
GAVE_UP = "ActionFailed"
NO_USER = "UserNotFoundException"
STEP_OUTCOMES = frozenset({REJECTED, GAVE_UP, "ActionSucceeded", "ActionSkipped"})
_REMEMBERED_PLANS = 20


class ActivePlan(BaseModel):
    plan: Plan
    stage_index: int = 0
    stage: Stage
    awaiting: dict[str, str] = Field(default_factory=dict, description="idempotency key -> action")
    held: bool = False
    started_after: Plan | None = Field(default=None, description="the person's last started plan before it")


class PlanAudit(BaseModel):
    """The detail of a plan's audit events (PlanStarted, PlanQueued, ...)."""

    plan_id: str = Field(alias="planId")
    event_type: str = Field(alias="eventType")
    employee_id: str = Field(alias="employeeId")
    username: str
    stages: list[str] | None = None
    stage: int | None = None
    reason: str | None = None
    error: OutcomeError | None = None

    model_config = {"populate_by_name": True}


class Effects(BaseModel):
    """What a transition asks the planner to do, in this order: cancel or set scheduled deletions, hold or
    release the person, then put the commands and the audit events on the bus (one call)."""

    commands: list[PlannedCommand] = Field(default_factory=list)
    schedule_deletes: list[tuple[PlannedCommand, datetime.datetime]] = Field(default_factory=list)
    cancel_scheduled_delete: bool = False
    audits: list[tuple[str, PlanAudit]] = Field(default_factory=list)
    now_held: bool = False
    now_released: bool = False

    @property
    def none(self) -> bool:
        return self == Effects()


class PersonState(BaseModel):
    username: str
    active: ActivePlan | None = None
    pending: list[Plan] = Field(default_factory=list)
    last_started: Plan | None = None
    recent_plan_ids: list[str] = Field(default_factory=list)
    onboarded: bool = Field(default=False, description="a joiner has started for this person")
    awaiting_joiner: bool = Field(default=False, description="a plan found no user: the joiner goes first")
    unpublished: Effects | None = Field(
        default=None, description="effects saved with the state and not yet known to be published"
    )


def audit(plan: Plan, **fields: Any) -> PlanAudit:
    return PlanAudit(
        plan_id=plan.plan_id,
        event_type=plan.event_type,
        employee_id=plan.employee_id,
        username=plan.username,
        **fields,
    )


class Sequencer:
    """One transition of one person's state. `admit_leaver` answers whether another deprovisioning may
    start now (the safety threshold)."""

    def __init__(self, state: PersonState, admit_leaver: Callable[[], bool]) -> None:
        self.state = state
        self.effects = Effects()
        self._admit_leaver = admit_leaver

    def accept(self, plan: Plan) -> Effects:
        state = self.state
        if plan.plan_id in state.recent_plan_ids or any(p.plan_id == plan.plan_id for p in state.pending):
            return self.effects  # a redelivered HR event: its outcome was already published
        state.recent_plan_ids = [*state.recent_plan_ids, plan.plan_id][-_REMEMBERED_PLANS:]
        # while a later plan runs for a person not onboarded, an older joiner may be the one it needs
        maybe_late_joiner = plan.is_joiner and not state.onboarded and state.active is not None
        if self._stale(plan) and not maybe_late_joiner:
            self._skip_stale(plan)
        elif state.active is None and self._may_start(plan):
            self._start(plan)
        elif state.active is None:
            self._queue(plan, "AwaitingJoiner")
        else:
            self._queue(plan, f"after {state.active.plan.plan_id}")
        return self.effects

    def on_outcome(self, outcome: str, detail: dict[str, Any]) -> Effects:
        active = self.state.active
        key = detail.get("idempotencyKey")
        if active is None or active.held or key not in active.awaiting:
            return self.effects
        if outcome == GAVE_UP:
            self.effects.audits.append(
                (
                    "PlanStalled",
                    audit(active.plan, stage=active.stage_index, error=_error_of(outcome, detail)),
                )
            )
            return self.effects
        del active.awaiting[key]
        if outcome == REJECTED:
            error = _error_of(outcome, detail)
            if error.code == NO_USER and not active.plan.is_joiner and not self.state.onboarded:
                self._await_joiner(active)
                return self.effects
            self.effects.audits.append(
                ("PlanFailed", audit(active.plan, stage=active.stage_index, error=error))
            )
            self._finish()
        elif active.stage.expansion is not None:
            active.stage = expand(
                active.stage, detail.get("result") or {}, plan=active.plan, stage_index=active.stage_index
            )
            self._run()
        elif not active.awaiting:
            self._advance()
        return self.effects

    def release(self) -> Effects:
        active = self.state.active
        if active is not None and active.held:
            active.held = False
            self.effects.now_released = True
            self.effects.audits.append(("PlanStarted", audit(active.plan, reason="Released")))
            self._run()
        return self.effects

    def _await_joiner(self, active: ActivePlan) -> None:
        """The plan starts again, from its first stage, once a joiner of this person has run; until then it
        has not started, so an event between it and the last plan that did is not stale."""
        state = self.state
        state.awaiting_joiner = True
        state.last_started = active.started_after
        state.active = None
        self._queue(active.plan, "AwaitingJoiner")
        self._next()

    def _queue(self, plan: Plan, reason: str) -> None:
        self.state.pending = sorted([*self.state.pending, plan], key=lambda waiting: waiting.order_key)
        self.effects.audits.append(("PlanQueued", audit(plan, reason=reason)))

    def _start(self, plan: Plan) -> None:
        if plan.is_joiner:
            self.state.onboarded = True
            self.state.awaiting_joiner = False
        started_after, self.state.last_started = self.state.last_started, plan
        self.state.active = (
            ActivePlan(plan=plan, stage=plan.stages[0], started_after=started_after) if plan.stages else None
        )
        if self.state.active is None:
            self.effects.audits.append(("PlanCompleted", audit(plan, reason="NothingToDo")))
            self._next()
            return
        if plan.is_leaver and not self._admit_leaver():
            self.state.active.held = True
            self.effects.now_held = True
            self.effects.audits.append(("PlanHeld", audit(plan, reason="LeaverThresholdReached")))
            return
        stages = [stage.describe() for stage in plan.stages]
        self.effects.audits.append(("PlanStarted", audit(plan, stages=stages)))
        self._run()

    def _run(self) -> None:
        """Dispatch the current stage, or move past stages that need no outcome."""
        active = self.state.active
        assert active is not None
        stage = active.stage
        if stage.cancel_scheduled_delete:
            # It cancels too a deletion that an earlier plan's last stage scheduled in this same transition
            # (the planner cancels before it schedules).
            self.effects.cancel_scheduled_delete = True
            self.effects.schedule_deletes.clear()
        if stage.schedule_delete_at is not None:
            (delete,) = stage.commands
            self.effects.schedule_deletes.append((delete, stage.schedule_delete_at))
        elif stage.commands:
            active.awaiting = {command.idempotency_key: command.action for command in stage.commands}
            self.effects.commands.extend(stage.commands)
            return
        self._advance()

    def _advance(self) -> None:
        active = self.state.active
        assert active is not None
        active.stage_index += 1
        if active.stage_index < len(active.plan.stages):
            active.stage = active.plan.stages[active.stage_index]
            self._run()
        else:
            self.effects.audits.append(("PlanCompleted", audit(active.plan)))
            self._finish()

    def _finish(self) -> None:
        self.state.active = None
        self._next()

    def _next(self) -> None:
        """Start the first waiting plan; while a joiner is awaited, only a joiner may start."""
        state = self.state
        waiting = [p for p in state.pending if self._may_start(p)]
        if waiting:
            state.pending.remove(waiting[0])
            if self._stale(waiting[0]):  # a joiner that waited for a plan that found the user after all
                self._skip_stale(waiting[0])
                self._next()
            else:
                self._start(waiting[0])

    def _may_start(self, plan: Plan) -> bool:
        """While a joiner is awaited, only a joiner may start."""
        return plan.is_joiner or not self.state.awaiting_joiner

    def _stale(self, plan: Plan) -> bool:
        """Older than the last started plan, unless it is the joiner that plan waits for."""
        last = self.state.last_started
        late_joiner = plan.is_joiner and self.state.awaiting_joiner
        return last is not None and plan.precedes(last) and not late_joiner

    def _skip_stale(self, plan: Plan) -> None:
        self.effects.audits.append(("PlanSkipped", audit(plan, reason="Stale")))


def _error_of(outcome: str, detail: dict[str, Any]) -> OutcomeError:
    return OutcomeError.model_validate(detail.get("error") or {"code": outcome, "message": ""})
