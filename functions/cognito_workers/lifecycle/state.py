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

A leaver's lock-out (its first stage) does not wait for the plans queued before it to finish: once the
person's user exists (the running plan is past its first stage, or a joiner has run before), and no rehire
before the leaver has still to enable the user, the lock-out is dispatched at once, ahead of its turn (the
leaver threshold is asked then, once); the rest of the leaver waits its turn. Disabling and signing out
commute with every other step of a joiner or a mover (attributes, groups, devices); only enabling does not.

A person is in one phase (PHASES below, drawn in the README from PHASE_CHANGES): Idle, Running (a plan's
stage waits for its outcomes), Held (a leaver waits for the operator's release) or AwaitingJoiner (plans
wait for the person's joiner). `transition(state, input, leaver_admitted=...)` is the one entry point: a
pure function of the state and one input (an HR event's plan, a step's outcome, the operator's release)
that returns the next state and the effects, and refuses a phase change its table does not list.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from cognito_workers.contracts import OutcomeError
from cognito_workers.lifecycle.plans import Plan, PlannedCommand, Stage, expand

REJECTED = "ActionRejected"
GAVE_UP = "ActionFailed"
NO_USER = "UserNotFoundException"
STEP_OUTCOMES = frozenset({REJECTED, GAVE_UP, "ActionSucceeded", "ActionSkipped"})
LOCKED_OUT = "LeaverLockedOut"
TIME_TO_LOCK_OUT = "TimeToLockOut"  # the planner's metric, in seconds, per leaver locked out
_REMEMBERED_PLANS = 20


class Phase(StrEnum):
    IDLE = "Idle"
    RUNNING = "Running"
    HELD = "Held"
    AWAITING_JOINER = "AwaitingJoiner"


# Every change of phase one transition may make, and what makes it; a transition that would make another
# is a defect (transition() raises). Staying in a phase is always allowed.
PHASE_CHANGES: tuple[tuple[Phase, str, Phase], ...] = (
    (Phase.IDLE, "an HR event is admitted", Phase.RUNNING),
    (Phase.IDLE, "a leaver over the threshold", Phase.HELD),
    (Phase.RUNNING, "its plan ends, no waiting plan may start", Phase.IDLE),
    (Phase.RUNNING, "its plan ends, the next is a leaver over the threshold", Phase.HELD),
    (Phase.RUNNING, "a step finds no user before any joiner", Phase.AWAITING_JOINER),
    (Phase.HELD, "the operator releases the hold", Phase.RUNNING),
    (Phase.AWAITING_JOINER, "the person's joiner arrives", Phase.RUNNING),
)


class ActivePlan(BaseModel):
    plan: Plan
    stage_index: int = 0
    stage: Stage
    awaiting: dict[str, str] = Field(default_factory=dict, description="idempotency key -> action")
    lock_out_seconds: dict[str, float] = Field(
        default_factory=dict,
        description="a leaver's lock-out steps applied: action -> seconds from its event",
    )
    started_after: Plan | None = Field(
        default=None, description="the person's last started plan before it, again the last if it goes back"
    )


class LockOutAhead(BaseModel):
    """A queued leaver's lock-out, dispatched ahead of its turn (or refused by the leaver threshold)."""

    plan_id: str
    admitted: bool
    awaiting: dict[str, str] = Field(default_factory=dict, description="idempotency key -> action")
    rejected: dict[str, str] = Field(default_factory=dict, description="to run again in the leaver's turn")
    seconds: dict[str, float] = Field(default_factory=dict, description="action -> seconds from its event")


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
    lock_out_seconds: dict[str, float] | None = Field(
        default=None,
        alias="lockOutSeconds",
        description="a leaver's: each lock-out step's time from its event",
    )

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
    starts_leaver: bool = Field(default=False, description="a leaver's plan asked to start (the threshold)")

    @property
    def none(self) -> bool:
        return self == Effects()


class PersonState(BaseModel):
    username: str
    phase: Phase = Phase.IDLE
    active: ActivePlan | None = Field(default=None, description="the plan that runs, or is held")
    pending: list[Plan] = Field(default_factory=list)
    last_started: Plan | None = None
    recent_plan_ids: list[str] = Field(default_factory=list)
    onboarded: bool = Field(default=False, description="a joiner has started for this person")
    lock_out_ahead: LockOutAhead | None = None

    @model_validator(mode="before")
    @classmethod
    def _phase_of_a_state_saved_before_phases(cls, data: Any) -> Any:
        """A state saved by an earlier version carries `awaiting_joiner` and `active.held` instead."""
        if isinstance(data, dict) and "phase" not in data:
            active = data.get("active")
            if data.pop("awaiting_joiner", False):
                data["phase"] = Phase.AWAITING_JOINER
            elif active:
                data["phase"] = Phase.HELD if active.pop("held", False) else Phase.RUNNING
        return data


def audit(plan: Plan, **fields: Any) -> PlanAudit:
    return PlanAudit(
        plan_id=plan.plan_id,
        event_type=plan.event_type,
        employee_id=plan.employee_id,
        username=plan.username,
        **fields,
    )


@dataclass(frozen=True)
class PlanArrived:
    plan: Plan


@dataclass(frozen=True)
class StepEnded:
    outcome: str
    detail: dict[str, Any]
    at: datetime.datetime  # the outcome event's time


@dataclass(frozen=True)
class OperatorRelease:
    pass


TransitionInput = PlanArrived | StepEnded | OperatorRelease


class PhaseChangeRefused(AssertionError):
    """A transition made a change of phase PHASE_CHANGES does not list: a defect of the sequencer."""


def transition(
    state: PersonState, given: TransitionInput, *, leaver_admitted: bool
) -> tuple[PersonState, Effects]:
    """The person's next state and the effects of one input; `state` is left as it is. `leaver_admitted`
    answers whether a leaver's plan may start now (the safety threshold); `Effects.starts_leaver` says
    whether the answer was used."""
    sequencer = _Sequencer(state.model_copy(deep=True), leaver_admitted=leaver_admitted)
    if isinstance(given, PlanArrived):
        sequencer.accept(given.plan)
    elif isinstance(given, StepEnded):
        sequencer.on_outcome(given)
    else:
        sequencer.release()
    sequencer.lock_out_ahead()
    after = sequencer.state
    if after.phase != state.phase and (state.phase, after.phase) not in _ALLOWED_CHANGES:
        raise PhaseChangeRefused(f"{state.username}: {state.phase} -> {after.phase} is not a phase change")
    return after, sequencer.effects


_ALLOWED_CHANGES = frozenset((before, after) for before, _, after in PHASE_CHANGES)


def phase_diagram() -> str:
    """PHASE_CHANGES as a mermaid state diagram (the README shows it)."""
    lines = ["stateDiagram-v2", f"    [*] --> {Phase.IDLE}"]
    lines += [f"    {before} --> {after}: {cause}" for before, cause, after in PHASE_CHANGES]
    return "\n".join(lines)


Admission = Literal["start", "queue", "stale"]


def admission(state: PersonState, plan: Plan) -> Admission:
    """The one rule of what an HR event's plan does: start now, wait its turn, or be skipped as stale.

    Stale: older than the last started plan (a reconciliation's repair: older than that plan's event). A
    joiner of a person no joiner has started for is never stale while another plan runs or waits for it:
    that plan may be the one needing it (a late joiner). It waits while a plan runs or is held, and so does
    any other plan while a joiner is awaited."""
    late_joiner = plan.is_joiner and not state.onboarded and state.phase is not Phase.IDLE
    last = state.last_started
    if last is not None and not late_joiner:
        # A repair carries no HR sequence: it is older only than a plan whose event came after it.
        stale = plan.event_time < last.event_time if plan.repair else plan.precedes(last)
        if stale:
            return "stale"
    if state.phase in {Phase.RUNNING, Phase.HELD}:
        return "queue"
    if state.phase is Phase.AWAITING_JOINER and not plan.is_joiner:
        return "queue"
    return "start"


class _Sequencer:
    """One transition of one person's state, applied to the copy it is given."""

    def __init__(self, state: PersonState, *, leaver_admitted: bool) -> None:
        self.state = state
        self.effects = Effects()
        self._leaver_admitted = leaver_admitted

    def accept(self, plan: Plan) -> None:
        state = self.state
        if plan.plan_id in state.recent_plan_ids or any(p.plan_id == plan.plan_id for p in state.pending):
            return  # a redelivered HR event: its outcome was already published
        state.recent_plan_ids = [*state.recent_plan_ids, plan.plan_id][-_REMEMBERED_PLANS:]
        decision = admission(state, plan)
        if decision == "stale":
            self._skip_stale(plan)
        elif decision == "start":
            self._start(plan)
        elif state.active is None:
            self._queue(plan, "AwaitingJoiner")
        else:
            self._queue(plan, f"after {state.active.plan.plan_id}")

    def on_outcome(self, ended: StepEnded) -> None:
        outcome, detail = ended.outcome, ended.detail
        active, ahead = self.state.active, self.state.lock_out_ahead
        key = detail.get("idempotencyKey")
        if ahead is not None and key in ahead.awaiting:
            self._ahead_step_ended(ahead, key, ended)
            return
        if self.state.phase is not Phase.RUNNING or active is None or key not in active.awaiting:
            return
        if outcome == GAVE_UP:
            self.effects.audits.append(
                (
                    "PlanStalled",
                    audit(active.plan, stage=active.stage_index, error=_error_of(outcome, detail)),
                )
            )
            return
        action = active.awaiting.pop(key)
        if outcome == REJECTED:
            error = _error_of(outcome, detail)
            if error.code == NO_USER and not active.plan.is_joiner and not self.state.onboarded:
                self._await_joiner(active)
                return
            self.effects.audits.append(
                ("PlanFailed", audit(active.plan, stage=active.stage_index, error=error))
            )
            self._finish()
            return
        if active.stage.lock_out:
            active.lock_out_seconds[action] = _seconds_since(active.plan, ended.at)
            if not active.awaiting:
                self.effects.audits.append(
                    (LOCKED_OUT, audit(active.plan, lock_out_seconds=active.lock_out_seconds))
                )
        if active.stage.expansion is not None:
            active.stage = expand(
                active.stage, detail.get("result") or {}, plan=active.plan, stage_index=active.stage_index
            )
            self._run()
        elif not active.awaiting:
            self._advance()

    def lock_out_ahead(self) -> None:
        """Dispatch the lock-out of the first leaver waiting behind the running plan, where it may run ahead
        of its turn (see the module's docstring)."""
        state, active = self.state, self.state.active
        if state.lock_out_ahead is not None or state.phase is not Phase.RUNNING or active is None:
            return
        if active.plan.is_leaver:
            return  # already locking out, or locked out
        user_exists = active.stage_index > 0 or (state.onboarded and not active.plan.is_joiner)
        if not user_exists or (active.plan.is_rehire and active.stage_index == 0):
            return
        leaver = next((plan for plan in state.pending if plan.is_leaver or plan.is_rehire), None)
        if leaver is None or not leaver.is_leaver or not leaver.stages[0].lock_out:
            return  # no leaver waits, or a rehire before it has still to enable the user
        self.effects.starts_leaver = True
        if not self._leaver_admitted:
            state.lock_out_ahead = LockOutAhead(plan_id=leaver.plan_id, admitted=False)
            return
        commands = leaver.stages[0].commands
        state.lock_out_ahead = LockOutAhead(
            plan_id=leaver.plan_id,
            admitted=True,
            awaiting={command.idempotency_key: command.action for command in commands},
        )
        self.effects.commands.extend(commands)

    def _ahead_step_ended(self, ahead: LockOutAhead, key: str, ended: StepEnded) -> None:
        leaver = next(plan for plan in self.state.pending if plan.plan_id == ahead.plan_id)
        if ended.outcome == GAVE_UP:  # as a stalled step: its redrive ends it
            error = _error_of(ended.outcome, ended.detail)
            self.effects.audits.append(("PlanStalled", audit(leaver, stage=0, error=error)))
            return
        action = ahead.awaiting.pop(key)
        if ended.outcome == REJECTED:
            ahead.rejected[key] = action
        else:
            ahead.seconds[action] = _seconds_since(leaver, ended.at)
        if not ahead.awaiting and not ahead.rejected:
            self.effects.audits.append(
                (LOCKED_OUT, audit(leaver, reason="AheadOfTurn", lock_out_seconds=ahead.seconds))
            )

    def release(self) -> None:
        active = self.state.active
        if self.state.phase is Phase.HELD and active is not None:
            self.state.phase = Phase.RUNNING
            self.effects.now_released = True
            self.effects.audits.append(("PlanStarted", audit(active.plan, reason="Released")))
            self._run()

    def _await_joiner(self, active: ActivePlan) -> None:
        """The plan starts again, from its first stage, once a joiner of this person has run; until then it
        has not started, so an event between it and the last plan that did is not stale."""
        state = self.state
        state.phase = Phase.AWAITING_JOINER
        state.last_started = active.started_after
        state.active = None
        self._queue(active.plan, "AwaitingJoiner")
        self._next()

    def _queue(self, plan: Plan, reason: str) -> None:
        self.state.pending = sorted([*self.state.pending, plan], key=lambda waiting: waiting.order_key)
        self.effects.audits.append(("PlanQueued", audit(plan, reason=reason)))

    def _start(self, plan: Plan) -> None:
        state = self.state
        if plan.is_joiner:
            state.onboarded = True
        started_after, state.last_started = state.last_started, plan
        if not plan.stages:
            state.active, state.phase = None, Phase.IDLE
            self.effects.audits.append(("PlanCompleted", audit(plan, reason="NothingToDo")))
            self._next()
            return
        state.active = ActivePlan(plan=plan, stage=plan.stages[0], started_after=started_after)
        ahead = self._ahead_of(plan)
        if plan.is_leaver:
            if ahead is None:
                self.effects.starts_leaver = True
            if not (self._leaver_admitted if ahead is None else ahead.admitted):
                state.phase = Phase.HELD
                self.effects.now_held = True
                self.effects.audits.append(("PlanHeld", audit(plan, reason="LeaverThresholdReached")))
                return
        state.phase = Phase.RUNNING
        stages = [stage.describe() for stage in plan.stages]
        self.effects.audits.append(("PlanStarted", audit(plan, stages=stages)))
        if ahead is None:
            self._run()
            return
        # Its lock-out ran ahead: wait for what is still in flight, and run again in turn what was rejected.
        active = state.active
        active.lock_out_seconds = ahead.seconds
        active.awaiting = {**ahead.awaiting, **ahead.rejected}
        self.effects.commands.extend(
            c for c in plan.stages[0].commands if c.idempotency_key in ahead.rejected
        )
        if not active.awaiting:
            self._advance()

    def _ahead_of(self, plan: Plan) -> LockOutAhead | None:
        """The lock-out that ran ahead of this plan's turn, taken from the state."""
        ahead = self.state.lock_out_ahead
        if ahead is None or ahead.plan_id != plan.plan_id:
            return None
        self.state.lock_out_ahead = None
        return ahead

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
            lock_out_seconds = active.lock_out_seconds or None
            self.effects.audits.append(
                ("PlanCompleted", audit(active.plan, lock_out_seconds=lock_out_seconds))
            )
            self._finish()

    def _finish(self) -> None:
        self.state.active, self.state.phase = None, Phase.IDLE
        self._next()

    def _next(self) -> None:
        """Start the first waiting plan the admission rule lets start; skip the stale ones on the way."""
        for plan in list(self.state.pending):
            decision = admission(self.state, plan)
            if decision == "queue":
                continue
            self.state.pending.remove(plan)
            if decision == "stale":  # e.g. a joiner that waited for a plan that found the user after all
                self._skip_stale(plan)
                continue
            self._start(plan)
            return

    def _skip_stale(self, plan: Plan) -> None:
        self._ahead_of(plan)
        self.effects.audits.append(("PlanSkipped", audit(plan, reason="Stale")))


def _seconds_since(plan: Plan, at: datetime.datetime) -> float:
    return round((at - plan.event_time).total_seconds(), 3)


def _error_of(outcome: str, detail: dict[str, Any]) -> OutcomeError:
    return OutcomeError.model_validate(detail.get("error") or {"code": outcome, "message": ""})
