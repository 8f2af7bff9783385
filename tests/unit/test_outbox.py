"""The planner's outbox, with the people's states in memory and the bus a recorder (no server): effects are
saved with the state in one write, published, then removed; a crash or a concurrent invocation publishes
them twice at worst, never loses them; a transition that loses the write publishes nothing."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from typing import Any

from cognito_workers.lifecycle.planner import LifecyclePlanner
from cognito_workers.lifecycle.state import Effects, PersonState
from cognito_workers.lifecycle.store import LifecycleStore, Saved, VersionConflict
from cognito_workers.settings import PlannerSettings
from local_aws.lambda_sqs import LambdaContext

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:cognito-lifecycle-LifecyclePlanner"


class MemoryStore(LifecycleStore):
    """The lifecycle table's items in a dict, with its conditional writes."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, int, str | None]] = {}  # username -> (state, version, outbox)
        self.before_save: Callable[[], None] | None = None

    def load(self, username: str) -> Saved:
        if username not in self.items:
            return Saved(PersonState(username=username), 0, None)
        state, version, outbox = self.items[username]
        return Saved(
            PersonState.model_validate_json(state),
            version,
            Effects.model_validate_json(outbox) if outbox else None,
        )

    def save(self, state: PersonState, version: int, outbox: Effects | None) -> int:
        if self.before_save is not None:
            before, self.before_save = self.before_save, None
            before()
        if self.items.get(state.username, ("", 0, None))[1] != version:
            raise VersionConflict(state.username)
        self.items[state.username] = (
            state.model_dump_json(),
            version + 1,
            outbox and outbox.model_dump_json(),
        )
        return version + 1

    def clear_outbox(self, username: str, version: int) -> None:
        state, saved_version, _ = self.items[username]
        if saved_version == version:
            self.items[username] = (state, version, None)

    def count_leaver(self, now: datetime.datetime, window: datetime.timedelta) -> int:
        return 1

    def hold(self, username: str) -> None:
        raise AssertionError("no leaver in these tests")

    unhold = hold


class RecordingBus:
    """put_events as EventBridge answers it; `on_put` runs once, at the next call, before it is recorded."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.on_put: Callable[[], None] | None = None

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        if self.on_put is not None:
            on_put, self.on_put = self.on_put, None
            on_put()
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())} for _ in Entries]}

    def kinds(self) -> list[str]:
        return [entry["DetailType"] for entry in self.entries]


def planner(store: MemoryStore, bus: RecordingBus) -> LifecyclePlanner:
    made = LifecyclePlanner(store=store)
    made.consumer.clients.events = bus  # type: ignore[assignment]
    made.consumer.settings = PlannerSettings.from_environment(
        {
            "USER_POOL_ID": "us-east-1_Pool1",
            "EVENT_BUS_NAME": "bus",
            "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/queue",
            "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
            "MAX_RECEIVE_COUNT": "5",
            "LIFECYCLE_TABLE_NAME": "lifecycle",
            "DELETE_QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:delete",
            "DELETE_DEAD_LETTER_QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:delete-dlq",
            "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/scheduler",
            "SCHEDULE_GROUP_NAME": "deletions",
        }
    )
    return made


def hr_event(detail_type: str, sequence: int, **detail: Any) -> dict[str, Any]:
    """An SQS record of the planner's queue holding an HR event, as Lambda hands it over."""
    body = {
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "hr.system",
        "time": "2026-12-01T09:00:00Z",
        "detail": {"employeeId": "E1", "username": "ada", "sequence": sequence, **detail},
    }
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "r",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1",
            }
        ]
    }


JOINER = {"email": "ada@example.com", "sendInvitation": False}


def deliver(to: LifecyclePlanner, event: dict[str, Any]) -> Any:
    return to.handler(event, LambdaContext("cognito-lifecycle-LifecyclePlanner"))


def test_effects_are_published_once_and_the_outbox_removed() -> None:
    store, bus = MemoryStore(), RecordingBus()

    answer = deliver(planner(store, bus), hr_event("EmployeeOnboarded", 1, **JOINER))

    assert answer["batchItemFailures"] == []
    assert bus.kinds() == ["AdminCreateUser", "PlanStarted"]
    assert store.items["ada"][2] is None


def test_a_crash_between_the_write_and_the_publishing_publishes_on_redelivery() -> None:
    store, bus = MemoryStore(), RecordingBus()
    event = hr_event("EmployeeOnboarded", 1, **JOINER)

    def crash() -> None:
        raise RuntimeError("the process died here")

    bus.on_put = crash
    crashed = deliver(planner(store, bus), event)
    left_behind = store.items["ada"][2]
    redelivered = deliver(planner(store, bus), event)

    assert crashed["batchItemFailures"] != []
    assert left_behind is not None
    assert json.loads(left_behind)["commands"][0]["action"] == "AdminCreateUser"
    assert redelivered["batchItemFailures"] == []
    assert bus.kinds() == ["AdminCreateUser", "PlanStarted"]  # the outbox, once; the duplicate adds nothing
    assert store.items["ada"][2] is None


def test_a_concurrent_invocation_publishes_an_outbox_it_finds_before_its_own_effects() -> None:
    store, bus = MemoryStore(), RecordingBus()
    other = planner(store, bus)
    mover = hr_event("EmployeeUpdated", 2, attributes={"department": "Sales"})
    # While the first invocation publishes the joiner's effects, another takes the person's mover
    bus.on_put = lambda: deliver(other, mover)

    deliver(planner(store, bus), hr_event("EmployeeOnboarded", 1, **JOINER))

    # The other published the joiner's outbox first, then queued the mover behind it; the first's own
    # publishing came after: twice at worst, with the same idempotency keys
    assert bus.kinds() == ["AdminCreateUser", "PlanStarted", "PlanQueued", "AdminCreateUser", "PlanStarted"]
    creates = {entry["Detail"] for entry in bus.entries if entry["DetailType"] == "AdminCreateUser"}
    assert len(creates) == 1
    assert store.items["ada"][2] is None


def test_a_transition_that_loses_the_write_publishes_nothing_and_starts_again() -> None:
    store, bus = MemoryStore(), RecordingBus()
    other = planner(store, bus)
    joiner = hr_event("EmployeeOnboarded", 1, **JOINER)
    # The mover's first write finds the joiner's written meanwhile
    store.before_save = lambda: deliver(other, joiner)

    deliver(planner(store, bus), hr_event("EmployeeUpdated", 2, attributes={"department": "Sales"}))

    # Only the joiner's effects went out, then the mover's from the state the joiner left: it waits
    assert bus.kinds() == ["AdminCreateUser", "PlanStarted", "PlanQueued"]
    assert PersonState.model_validate_json(store.items["ada"][0]).pending[0].event_type == "EmployeeUpdated"
