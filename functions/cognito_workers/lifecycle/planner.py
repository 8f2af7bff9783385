"""The lifecycle planner: a queue consumer of HR events, of the outcomes of its own plan steps, and of the
operator's release of a deprovisioning hold.

An HR event becomes a plan (plans.py); the person's state machine (state.py) decides what runs; the planner
saves the state, then publishes the transition's effects. The effects are saved with the state, in the
same conditional write, as the item's outbox, and cleared once published: a transition that loses the save
to a concurrent one has published nothing (an effect published first could run a step of a plan that is
not the person's current one). A concurrent invocation, or the person's next transition after a crash (the
redelivered record at the latest), finds the outbox not yet cleared and publishes it before its own
transition: published twice at worst, which is harmless, as commands carry idempotency keys.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from cognito_workers.catalog import PLANNER, RECONCILER
from cognito_workers.consumer import Delivery, QueueConsumer
from cognito_workers.contracts import OutcomeError
from cognito_workers.errors import CommandRejected, ContendedFailure
from cognito_workers.lifecycle.events import EVENT_TYPES, parse_lifecycle_event
from cognito_workers.lifecycle.plans import PlannedCommand, plan_for
from cognito_workers.lifecycle.schedules import DeletionSchedules
from cognito_workers.lifecycle.state import (
    LOCKED_OUT,
    STEP_OUTCOMES,
    TIME_TO_LOCK_OUT,
    Effects,
    OperatorRelease,
    PlanArrived,
    StepEnded,
    TransitionInput,
    audit,
    transition,
)
from cognito_workers.lifecycle.store import LifecycleStore, VersionConflict
from cognito_workers.settings import PlannerSettings

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

_MAX_VERSION_CONFLICTS = 5


class LifecycleInputAudit(BaseModel):
    """The audit of a planner input that could not be processed (bad HR event, or gave up)."""

    model_config = ConfigDict(populate_by_name=True)

    detail_type: str | None = Field(default=None, alias="detailType")
    event_id: str | None = Field(default=None, alias="eventId")
    username: str | None = None
    message_id: str = Field(alias="messageId")
    error: OutcomeError


class HoldReleased(BaseModel):
    released: list[str]


class LifecyclePlanner:
    """The work of the planner's SQS-triggered function (its `consumer`)."""

    def __init__(
        self, clock: Callable[[], datetime.datetime] | None = None, store: LifecycleStore | None = None
    ) -> None:
        """`store`: the people's states, by default the lifecycle table (tests give one in memory)."""
        self.clock = clock or (lambda: datetime.datetime.now(datetime.UTC))
        self._store = store
        self.consumer = QueueConsumer(
            PLANNER.name,
            work=self,
            settings_model=PlannerSettings,
            rejected_outcome="LifecycleEventRejected",
            failed_outcome="LifecycleEventFailed",
        )
        self.handler = self.consumer.handler

    def process(self, delivery: Delivery) -> None:
        event = _event_of(delivery)
        detail_type, detail = event["detail-type"], event["detail"]
        if detail_type in EVENT_TYPES:
            self._plan(delivery, event)
        elif detail_type in STEP_OUTCOMES:
            self._step_done(delivery, StepEnded(detail_type, detail, at=_event_time(event)))
        elif detail_type == PLANNER.release_detail_type:
            self._release()
        else:
            raise CommandRejected("UnknownEventType", f"detail-type: {detail_type!r} is not for the planner")

    def failure_detail(self, delivery: Delivery, error: OutcomeError) -> LifecycleInputAudit:
        envelope = delivery.envelope or {}
        return LifecycleInputAudit(
            detail_type=envelope.get("detail-type"),
            event_id=envelope.get("id"),
            username=delivery.username,
            message_id=delivery.record.message_id,
            error=error,
        )

    @property
    def store(self) -> LifecycleStore:
        return self._store or LifecycleStore(
            self.consumer.clients.dynamodb, self.consumer.configured_settings().lifecycle_table_name
        )

    def _plan(self, delivery: Delivery, event: dict[str, Any]) -> None:
        delivery.identify(username=event["detail"].get("username"), correlation_id=event["id"])
        lifecycle_event = parse_lifecycle_event(event["detail-type"], event["detail"])
        plan_id = lifecycle_event.event_id or event["id"]
        plan = plan_for(
            lifecycle_event,
            plan_id=plan_id,
            event_time=_event_time(event),
            repair=event.get("source") == RECONCILER.event_source,
        )
        delivery.identify(username=plan.username, correlation_id=plan_id)
        if lifecycle_event.dry_run:
            self.consumer.outcomes.publish(
                "PlanComputed", audit(plan, stages=[stage.describe() for stage in plan.stages])
            )
            return
        self._transition(plan.username, PlanArrived(plan))

    def _step_done(self, delivery: Delivery, ended: StepEnded) -> None:
        username = ended.detail.get("username")
        if not isinstance(username, str):
            return  # not a person's step: nothing to sequence
        delivery.identify(username=username, correlation_id=ended.detail.get("correlationId"))
        self._transition(username, ended)
        self.consumer.metrics.count("StepOutcomes")

    def _release(self) -> None:
        settings = self.consumer.configured_settings()
        self.store.reset_leavers(self.clock(), datetime.timedelta(minutes=settings.leaver_window_minutes))
        held = self.store.held()
        for username in held:
            self._transition(username, OperatorRelease())
        self.consumer.outcomes.publish("HoldReleased", HoldReleased(released=held), released=len(held))

    def _admit_leaver(self) -> bool:
        settings = self.consumer.configured_settings()
        window = datetime.timedelta(minutes=settings.leaver_window_minutes)
        return self.store.count_leaver(self.clock(), window) <= settings.leaver_threshold

    def _transition(self, username: str, given: TransitionInput) -> None:
        """Load, publish an outbox left behind, transition, save the state with its effects in one write,
        publish them, clear the outbox; on a concurrent save, start again from the saved state."""
        store = self.store
        admitted: list[bool] = []  # a retry after a conflict must not count the same leaver again

        def admit_leaver() -> bool:
            if not admitted:
                admitted.append(self._admit_leaver())
            return admitted[0]

        for _ in range(_MAX_VERSION_CONFLICTS):
            saved = store.load(username)
            if saved.outbox is not None:  # saved by a transition that crashed, or is publishing now
                self._apply(username, saved.outbox)
            state, effects = transition(saved.state, given, leaver_admitted=True)
            if effects.starts_leaver and not admit_leaver():
                state, effects = transition(saved.state, given, leaver_admitted=False)
            try:
                version = store.save(state, saved.version, None if effects.none else effects)
            except VersionConflict:
                continue
            if not effects.none:
                self._apply(username, effects)
                store.clear_outbox(username, version)
            return
        raise ContendedFailure("ConcurrentUpdate", f"the state of {username} kept changing while planning")

    def _apply(self, username: str, effects: Effects) -> None:
        if effects.cancel_scheduled_delete or effects.schedule_deletes:
            settings = self.consumer.configured_settings()
            schedules = DeletionSchedules(
                self.consumer.clients.scheduler,
                group=settings.schedule_group_name,
                queue_arn=settings.delete_queue_arn,
                dead_letter_arn=settings.delete_dead_letter_queue_arn,
                role_arn=settings.scheduler_role_arn,
            )
            if effects.cancel_scheduled_delete:
                schedules.cancel(username)
            for command, at in effects.schedule_deletes:
                schedules.schedule(username, command, at)
        if effects.now_held:
            self.store.hold(username)
        if effects.now_released:
            self.store.unhold(username)
        # The commands, each routed like any producer's to its action's queue, and the audits: one call.
        self.consumer.outcomes.put(
            [
                *(self._command_entry(command) for command in effects.commands),
                *(self.consumer.outcomes.entry(outcome, detail) for outcome, detail in effects.audits),
            ]
        )
        for outcome, detail in effects.audits:
            self.consumer.outcomes.published(outcome, plan_id=detail.plan_id)
            if outcome == LOCKED_OUT and detail.lock_out_seconds:
                # From the HR event to the last lock-out step applied: the SLO's metric.
                self.consumer.metrics.seconds(TIME_TO_LOCK_OUT, max(detail.lock_out_seconds.values()))

    def _command_entry(self, command: PlannedCommand) -> PutEventsRequestEntryTypeDef:
        return {
            "Source": PLANNER.command_source,
            "DetailType": command.action,
            "Detail": json.dumps(command.envelope()),
            "EventBusName": self.consumer.configured_settings().event_bus_name,
        }


def _event_of(delivery: Delivery) -> dict[str, Any]:
    try:
        body = json.loads(delivery.record.body)
    except json.JSONDecodeError as error:
        raise CommandRejected("MalformedJson", f"body: not valid JSON ({error.msg})") from None
    if not isinstance(body, dict) or not isinstance(body.get("detail"), dict):
        raise CommandRejected("InvalidEvent", "body: must be an EventBridge event with an object detail")
    for name in ("id", "detail-type", "time"):
        if not isinstance(body.get(name), str):
            raise CommandRejected("InvalidEvent", f"{name}: required, a string")
    delivery.envelope = body
    return body


def _event_time(event: dict[str, Any]) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    except ValueError:
        raise CommandRejected("InvalidEvent", "time: not an ISO 8601 timestamp") from None
