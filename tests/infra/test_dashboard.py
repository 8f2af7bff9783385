"""The operator dashboard in the template: every metric it shows from the product's namespace is one the
functions' code emits (namespace, name, dimensions), found by running that code in the environment the stack
gives each function; and it shows each queue, DLQ and function the stack has."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any, get_args

import pytest

from cognito_workers import observability
from cognito_workers.catalog import ACTIONS, PLANNER, RECONCILER
from cognito_workers.consumer import Delivery, QueueConsumer, SqsRecord
from cognito_workers.contracts import OutcomeType
from cognito_workers.errors import RetryableFailure
from cognito_workers.lifecycle.events import parse_lifecycle_event
from cognito_workers.lifecycle.planner import LifecyclePlanner
from cognito_workers.lifecycle.plans import plan_for
from cognito_workers.lifecycle.state import (
    LOCKED_OUT,
    TIME_TO_LOCK_OUT,
    Effects,
    PersonState,
    PlanArrived,
    StepEnded,
    transition,
)
from cognito_workers.reconcile.function import ReconcilerSettings, SnapshotReconciler
from cognito_workers.settings import PlannerSettings, WorkerSettings
from cognito_workers.worker import ActionWorker
from tests.infra.conftest import Synthesized
from tests.infra.template import Workers, flatten, settings_from
from tests.infra.test_planner import RecordingEvents

# A metric as the dashboard shows it and as EMF declares it: namespace, name, dimensions.
Metric = tuple[str, str, frozenset[tuple[str, str]]]
EVENT_TIME = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
# What a reconciliation run ends in: completed (or a dry run), held, refused, failed after its retries.
RECONCILIATION_AUDITS = (
    RECONCILER.completed_detail_type,
    RECONCILER.held_detail_type,
    RECONCILER.refused_detail_type,
    RECONCILER.failed_detail_type,
)


@pytest.fixture
def workers(synthesized: Synthesized) -> Workers:
    return Workers(synthesized)


def dashboard_body(synthesized: Synthesized) -> dict[str, Any]:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body: dict[str, Any] = json.loads(flatten(dashboard["Properties"]["DashboardBody"]))
    return body


def shown_metrics(synthesized: Synthesized) -> list[Metric]:
    """Every metric of every graph: [namespace, name, dimension, value, ..., {options}] in the body."""
    shown = []
    for widget in dashboard_body(synthesized)["widgets"]:
        for namespace, name, *rest in widget["properties"].get("metrics", []):
            dimensions = [part for part in rest if isinstance(part, str)]
            shown.append((namespace, name, frozenset(zip(dimensions[::2], dimensions[1::2], strict=True))))
    return shown


def emitted(metrics: observability.ActionMetrics) -> set[Metric]:
    """What the handler would print at the end of its invocation (EMF), read back as metrics."""
    emf: dict[str, Any] = dict(metrics.emf.serialize_metric_set())
    declared = set()
    for metric_set in emf["_aws"]["CloudWatchMetrics"]:
        for dimension_names in metric_set["Dimensions"]:
            dimensions = frozenset((name, emf[name]) for name in dimension_names)
            declared |= {(metric_set["Namespace"], m["Name"], dimensions) for m in metric_set["Metrics"]}
    return declared


def retried(consumer: QueueConsumer[Any]) -> None:
    """A record that fails on a transient cause on its first delivery: handed back for a retry."""
    record = SqsRecord({"messageId": "m-1", "body": "{}", "attributes": {"ApproximateReceiveCount": "1"}})
    failure = RetryableFailure("TooManyRequestsException", "slow down")
    with pytest.raises(RetryableFailure):
        consumer._retry_or_give_up(Delivery(record=record), failure, consumer.settings)


def planner_audits() -> Iterator[str]:
    """The planner's audit events of a joiner started, stalled on a step that gave up, failed on a
    rejected step, and a leaver held by the threshold: the sequencer decides which they are."""
    joiner = parse_lifecycle_event(
        "EmployeeOnboarded", {"employeeId": "E-1", "email": "e1@example.com", "sendInvitation": False}
    )
    leaver = parse_lifecycle_event("EmployeeOffboarded", {"employeeId": "E-2", "username": "jdoe"})
    error = {"code": "InvalidParameterException", "message": "refused"}
    for step_outcome in ("ActionFailed", "ActionRejected"):
        state, started = transition(
            PersonState(username="e-1"),
            PlanArrived(plan_for(joiner, plan_id="evt-1", event_time=EVENT_TIME)),
            leaver_admitted=True,
        )
        key = started.commands[0].idempotency_key
        ended = StepEnded(step_outcome, {"idempotencyKey": key, "error": error}, at=EVENT_TIME)
        _, effects = transition(state, ended, leaver_admitted=True)
        yield from (outcome for outcome, _ in [*started.audits, *effects.audits])
    _, held = transition(
        PersonState(username="jdoe"),
        PlanArrived(plan_for(leaver, plan_id="evt-2", event_time=EVENT_TIME)),
        leaver_admitted=False,
    )
    yield from (outcome for outcome, _ in held.audits)


@pytest.fixture
def emitted_by_the_code(workers: Workers, monkeypatch: pytest.MonkeyPatch) -> set[Metric]:
    """Every metric the functions' code emits, each function run in the environment the stack gives it:
    the workers' outcome types and retries, the planner's audit events and retries."""
    declared: set[Metric] = set()
    for spec in ACTIONS:
        env = workers.environment(spec.name)
        monkeypatch.setattr(observability, "SERVICE", env["POWERTOOLS_SERVICE_NAME"])
        monkeypatch.setattr(observability, "METRICS_NAMESPACE", env["POWERTOOLS_METRICS_NAMESPACE"])
        worker = ActionWorker(spec.name)
        worker.consumer.settings = settings_from(WorkerSettings, env)
        for outcome in get_args(OutcomeType):
            worker.consumer.outcomes.published(outcome)
        retried(worker.consumer)
        declared |= emitted(worker.consumer.metrics)
    env = workers.environment(PLANNER.name)
    monkeypatch.setattr(observability, "SERVICE", env["POWERTOOLS_SERVICE_NAME"])
    monkeypatch.setattr(observability, "METRICS_NAMESPACE", env["POWERTOOLS_METRICS_NAMESPACE"])
    planner = LifecyclePlanner()
    planner.consumer.settings = settings_from(PlannerSettings, env)
    for outcome in planner_audits():
        planner.consumer.outcomes.published(outcome)
    planner.consumer.clients.events = RecordingEvents()  # type: ignore[assignment]
    planner._apply("jdoe", leaver_locked_out())
    retried(planner.consumer)
    declared |= emitted(planner.consumer.metrics)
    env = workers.environment(RECONCILER.name)
    reconciler = SnapshotReconciler()
    reconciler.consumer.settings = settings_from(ReconcilerSettings, env)
    for outcome in RECONCILIATION_AUDITS:
        reconciler.consumer.outcomes.published(outcome)
    retried(reconciler.consumer)
    return declared | emitted(reconciler.consumer.metrics)


def leaver_locked_out() -> Effects:
    """The effects of the transition that sees a leaver's last lock-out step applied."""
    leaver = parse_lifecycle_event("EmployeeOffboarded", {"employeeId": "E-2", "username": "jdoe"})
    state, started = transition(
        PersonState(username="jdoe"),
        PlanArrived(plan_for(leaver, plan_id="evt-3", event_time=EVENT_TIME)),
        leaver_admitted=True,
    )
    effects = started
    for command in started.commands:
        ended = StepEnded("ActionSucceeded", {"idempotencyKey": command.idempotency_key}, at=EVENT_TIME)
        state, effects = transition(state, ended, leaver_admitted=True)
    assert [outcome for outcome, _ in effects.audits] == [LOCKED_OUT]
    return effects


def test_every_product_metric_shown_is_one_the_code_emits(
    synthesized: Synthesized, workers: Workers, emitted_by_the_code: set[Metric]
) -> None:
    namespaces = {workers.environment(name)["POWERTOOLS_METRICS_NAMESPACE"] for name in workers.by_function()}
    (namespace,) = namespaces
    shown = [metric for metric in shown_metrics(synthesized) if metric[0] == namespace]
    assert shown
    assert [metric for metric in shown if metric not in emitted_by_the_code] == []
    # Every action's outcomes by type, and the planner's plans started, held, stalled and failed
    names_by_function: dict[str, set[str]] = {}
    for _, name, dimensions in shown:
        names_by_function.setdefault(dict(dimensions)["action"], set()).add(name)
    for spec in ACTIONS:
        assert names_by_function[spec.name] >= set(get_args(OutcomeType)) | {"Retried"}, spec.name
    plans = {"PlanStarted", "PlanHeld", "PlanStalled", "PlanFailed"}
    assert names_by_function[PLANNER.name] >= plans | {"Retried", TIME_TO_LOCK_OUT}
    assert names_by_function[RECONCILER.name] == {*RECONCILIATION_AUDITS, "Retried"}


def test_every_queue_dlq_and_function_is_shown(synthesized: Synthesized, workers: Workers) -> None:
    shown: dict[str, set[str]] = {}
    for namespace, name, dimensions in shown_metrics(synthesized):
        for _, value in dimensions:
            target = value.removeprefix("${").split(".")[0].removesuffix("}")
            shown.setdefault(target, set()).add(f"{namespace}:{name}")
    for name, joined in workers.by_function().items():
        assert shown[joined["queue"]] == {
            "AWS/SQS:ApproximateNumberOfMessagesVisible",
            "AWS/SQS:ApproximateAgeOfOldestMessage",
        }, name
        assert shown[joined["dlq"]] == {"AWS/SQS:ApproximateNumberOfMessagesVisible"}, name
        assert shown[joined["function"]] == {"AWS/Lambda:Throttles"}, name


def test_time_to_lock_out_is_graphed_at_p50_p99_and_maximum_against_the_slo(synthesized: Synthesized) -> None:
    widgets = dashboard_body(synthesized)["widgets"]
    (graph,) = [w for w in widgets if w["properties"].get("title") == "Time to lock-out (seconds)"]
    lines = graph["properties"]["metrics"]
    assert {line[1] for line in lines} == {TIME_TO_LOCK_OUT}
    assert sorted(line[-1]["stat"] for line in lines) == ["Maximum", "p50", "p99"]
    (slo,) = graph["properties"]["annotations"]["horizontal"]
    assert slo["value"] == synthesized.context["lockOutSloSeconds"]
