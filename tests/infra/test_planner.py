"""The lifecycle planner in the template: its environment, its role, the scheduler's role, its three inputs
and the hold alarm, each checked against what the planner's code reads, calls and emits."""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

import pytest

from cognito_workers import observability
from cognito_workers.catalog import PLANNER, RECONCILER, QuotaCategory
from cognito_workers.lifecycle.events import EVENT_TYPES, parse_lifecycle_event
from cognito_workers.lifecycle.planner import LifecyclePlanner
from cognito_workers.lifecycle.plans import plan_for
from cognito_workers.lifecycle.state import (
    STEP_OUTCOMES,
    TIME_TO_LOCK_OUT,
    PersonState,
    PlanArrived,
    StepEnded,
    transition,
)
from cognito_workers.settings import PlannerSettings
from infra.routing import lock_out_lane_patterns, planner_input_patterns
from tests.infra.conftest import Synthesized
from tests.infra.template import (
    OBSERVABILITY_VARIABLES,
    Workers,
    account_arn,
    as_list,
    flatten,
    ref_target,
    settings_from,
    statements,
    tables_keyed_by,
)

SCHEDULER = "scheduler.amazonaws.com"


@pytest.fixture
def workers(synthesized: Synthesized) -> Workers:
    return Workers(synthesized)


def scheduler_role(workers: Workers) -> tuple[str, dict[str, Any]]:
    ((role_id, role),) = workers.roles_assumed_by(SCHEDULER).items()
    return role_id, role


def schedule_group(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    ((group_id, group),) = synthesized.of_type("AWS::Scheduler::ScheduleGroup").items()
    return group_id, group


def granted(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role["Properties"]["Policies"] for s in statements(policy["PolicyDocument"])]


def normalized(role: dict[str, Any]) -> dict[frozenset[str], Any]:
    """A role's statements as {actions: resource}, the resource flattened (see test_template.flatten)."""
    result: dict[frozenset[str], Any] = {}
    for statement in granted(role):
        assert statement["Effect"] == "Allow"
        actions = frozenset(as_list(statement["Action"]))
        assert actions not in result, f"two statements grant {sorted(actions)}"
        result[actions] = flatten(statement["Resource"])
    return result


def test_the_planner_environment_is_every_planner_setting(synthesized: Synthesized, workers: Workers) -> None:
    # Given the planner function's environment and the settings model its handler validates
    env = workers.environment(PLANNER.name)
    aliases = {f.alias for f in PlannerSettings.model_fields.values() if f.alias}
    required = {f.alias for f in PlannerSettings.model_fields.values() if f.alias and f.is_required()}
    # Then every required setting is there, and every optional one too (no hidden default is relied on,
    # e.g. the "default" schedule group), with nothing but settings and observability's variables
    assert required <= set(env)
    assert set(env) - OBSERVABILITY_VARIABLES == aliases
    settings_from(PlannerSettings, env)  # and the values have the settings' types
    # And each points at the planner's own resources
    joined = workers.planner
    context = synthesized.context
    assert ref_target(env["QUEUE_URL"]) == joined["queue"]
    assert ref_target(env["DEAD_LETTER_QUEUE_URL"]) == joined["dlq"]
    assert int(env["MAX_RECEIVE_COUNT"]) == joined["max_receive_count"]
    assert ref_target(env["LIFECYCLE_TABLE_NAME"]) in tables_keyed_by(synthesized, "pk")
    assert ref_target(env["DELETE_QUEUE_ARN"]) == workers.by_action()["AdminDeleteUser"]["queue"]
    assert ref_target(env["DELETE_DEAD_LETTER_QUEUE_ARN"]) == workers.by_action()["AdminDeleteUser"]["dlq"]
    assert ref_target(env["SCHEDULER_ROLE_ARN"]) == scheduler_role(workers)[0]
    assert ref_target(env["SCHEDULE_GROUP_NAME"]) == schedule_group(synthesized)[0]
    assert env["OUTCOME_EVENT_SOURCE"] == context["outcomeEventSource"]
    assert int(env["LEAVER_THRESHOLD"]) == context["leaverThreshold"]
    assert int(env["LEAVER_WINDOW_MINUTES"]) == context["leaverWindowMinutes"]


def test_the_lock_out_lane_is_the_planner_on_a_queue_of_its_own(
    synthesized: Synthesized, workers: Workers
) -> None:
    planner, lane = workers.planner, workers.by_function()[PLANNER.lock_out_lane_name]
    # The same planner over the same state: its environment differs only by its own queue and DLQ
    own = {"QUEUE_URL", "DEAD_LETTER_QUEUE_URL"}
    planner_env, lane_env = workers.environment(PLANNER.name), workers.environment(PLANNER.lock_out_lane_name)
    assert {k: v for k, v in lane_env.items() if k not in own} == {
        k: v for k, v in planner_env.items() if k not in own
    }
    assert ref_target(lane_env["QUEUE_URL"]) == lane["queue"]
    assert ref_target(lane_env["DEAD_LETTER_QUEUE_URL"]) == lane["dlq"]
    assert lane["queue"] != planner["queue"]
    # Enough instances for the leavers' transitions (the HR event and two outcomes each) to keep up with
    # their lock-out calls at UserUpdate's whole rate, at assumedRecordMillis per record (cdk.json: 25/s and
    # 250 ms, 37.5 transitions a second at 4 per instance: 10)
    context = synthesized.context
    rate = context["quotaOverrides"].get("UserUpdate", QuotaCategory.USER_UPDATE.requests_per_second)
    mapping = workers.mappings[lane["mapping"]]["Properties"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == math.ceil(
        rate * 3 / 2 * context["assumedRecordMillis"] / 1000
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_planner_role_holds_exactly_its_statements_and_no_cognito_action(
    synthesized: Synthesized, workers: Workers
) -> None:
    # Given the planner's role and the resources it should reach
    joined = workers.planner
    role = workers.roles[joined["role"]]
    assert "ManagedPolicyArns" not in role["Properties"]
    assert [s["Principal"] for s in statements(role["Properties"]["AssumeRolePolicyDocument"])] == [
        {"Service": "lambda.amazonaws.com"}
    ]
    prefix = synthesized.context["resourcePrefix"]
    (lifecycle_table,) = tables_keyed_by(synthesized, "pk")
    (key,) = synthesized.of_type("AWS::KMS::Key")
    log_group = ref_target(workers.functions[joined["function"]]["Properties"]["LoggingConfig"]["LogGroup"])
    scheduler_role_id, _ = scheduler_role(workers)
    _, group = schedule_group(synthesized)
    # Then its statements are exactly these: no cognito-idp action, no other resource
    assert normalized(role) == {
        frozenset(
            {
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility",
            }
        ): (f"${{{joined['queue']}.Arn}}"),
        frozenset({"sqs:SendMessage"}): f"${{{joined['dlq']}.Arn}}",
        frozenset({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}): (
            f"${{{lifecycle_table}.Arn}}"
        ),
        frozenset({"events:PutEvents"}): account_arn("events", f"event-bus/{prefix}-bus"),
        frozenset({"scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"}): (
            account_arn("scheduler", f"schedule/{group['Properties']['Name']}/*")
        ),
        frozenset({"iam:PassRole"}): f"${{{scheduler_role_id}.Arn}}",
        frozenset({"kms:Decrypt", "kms:GenerateDataKey"}): f"${{{key}.Arn}}",
        frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}): f"${{{log_group}.Arn}}",
        frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}): "*",
    }
    conditions: dict[frozenset[str], Any] = {
        frozenset(as_list(s["Action"])): s.get("Condition") for s in granted(role)
    }
    # It publishes commands (the planner's source) and audit events (the outcome source), nothing else
    (sources,) = conditions[frozenset({"events:PutEvents"})]["StringEquals"].values()
    assert sorted(sources) == sorted([PLANNER.command_source, synthesized.context["outcomeEventSource"]])
    # It passes the scheduler role to EventBridge Scheduler only
    assert conditions[frozenset({"iam:PassRole"})] == {"StringEquals": {"iam:PassedToService": SCHEDULER}}
    # It uses the key only through SQS (its queues) and DynamoDB (its table)
    via = flatten(
        conditions[frozenset({"kms:Decrypt", "kms:GenerateDataKey"})]["StringEquals"]["kms:ViaService"]
    )
    assert sorted(via) == ["dynamodb.${AWS::Region}.amazonaws.com", "sqs.${AWS::Region}.amazonaws.com"]


def test_the_scheduler_role_can_only_send_to_the_admin_delete_user_queue(
    synthesized: Synthesized, workers: Workers
) -> None:
    # Given the role EventBridge Scheduler assumes for the leavers' deletions
    _, role = scheduler_role(workers)
    group_id, _ = schedule_group(synthesized)
    (key,) = synthesized.of_type("AWS::KMS::Key")
    delete_queue = workers.by_action()["AdminDeleteUser"]["queue"]
    delete_dead_letter_queue = workers.by_action()["AdminDeleteUser"]["dlq"]
    # Then only the scheduler, for this account's deletion group, may assume it
    (trust,) = statements(role["Properties"]["AssumeRolePolicyDocument"])
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert ref_target(trust["Condition"]["ArnEquals"]["aws:SourceArn"]) == group_id
    # and it can send a message to the AdminDeleteUser queue (or its DLQ, when undeliverable) and use the
    # key for that, nothing else
    assert "ManagedPolicyArns" not in role["Properties"]
    assert {actions: sorted(r) if isinstance(r, list) else r for actions, r in normalized(role).items()} == {
        frozenset({"sqs:SendMessage"}): sorted(
            [f"${{{delete_queue}.Arn}}", f"${{{delete_dead_letter_queue}.Arn}}"]
        ),
        frozenset({"kms:Decrypt", "kms:GenerateDataKey"}): f"${{{key}.Arn}}",
    }
    (kms,) = [s for s in granted(role) if "kms:Decrypt" in as_list(s["Action"])]
    assert flatten(kms["Condition"]["StringEquals"]["kms:ViaService"]) == ["sqs.${AWS::Region}.amazonaws.com"]


def test_the_deletion_schedule_group_is_named_for_the_deployment(synthesized: Synthesized) -> None:
    _, group = schedule_group(synthesized)
    assert group["Properties"]["Name"] == f"{synthesized.context['resourcePrefix']}-deletions"
    # Deleting the stack deletes the group, and with it the deletions still pending
    assert group["DeletionPolicy"] == "Delete"


def test_the_planners_rules_are_the_shared_input_patterns(synthesized: Synthesized, workers: Workers) -> None:
    # Given the shared pattern builders, fed with the context's sources
    context = synthesized.context
    sources = {"hr_sources": context["hrEventSources"], "outcome_source": context["outcomeEventSource"]}
    expected = {
        PLANNER.name: planner_input_patterns(
            **sources, operator_source=context["operatorEventSource"], lock_out_lane=True
        ),
        PLANNER.lock_out_lane_name: lock_out_lane_patterns(**sources),
    }
    for name, inputs in expected.items():
        # When the rules that deliver to the planner function's queue are read
        queue = workers.by_function()[name]["queue"]
        patterns = [
            rule["Properties"]["EventPattern"]
            for rule in synthesized.of_type("AWS::Events::Rule").values()
            if ref_target(rule["Properties"]["Targets"][0]["Arn"]) == queue
        ]
        # Then there is one rule per input, with exactly its pattern
        assert sorted(map(json.dumps, patterns)) == sorted(map(json.dumps, inputs.values())), name


@pytest.mark.parametrize("lane", [True, False])
def test_the_input_patterns_carry_what_the_planner_handles_each_input_once(lane: bool) -> None:
    patterns = planner_input_patterns(
        hr_sources=["hr"], outcome_source="outcomes", operator_source="operator", lock_out_lane=lane
    )
    if lane:
        patterns |= lock_out_lane_patterns(hr_sources=["hr"], outcome_source="outcomes")
    hr = ["hr", RECONCILER.event_source]  # the reconciler repairs drift with HR events of its own
    assert sorted(t for p in patterns.values() if p["source"] == hr for t in p["detail-type"]) == sorted(
        EVENT_TYPES
    )
    assert set(patterns["step-outcomes"]["detail-type"]) == STEP_OUTCOMES
    assert patterns["release"]["detail-type"] == [PLANNER.release_detail_type]
    if lane:  # the lock-out steps' outcomes to the lane, every other step's to the planner's queue
        lock_out = list(PLANNER.lock_out_actions)
        assert patterns["lock-out-outcomes"]["detail"]["action"] == lock_out
        assert patterns["step-outcomes"]["detail"]["action"] == [{"anything-but": lock_out}]
    else:
        assert "action" not in patterns["step-outcomes"]["detail"]


class RecordingEvents:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": []}


def planner_as_deployed(workers: Workers, function: str, monkeypatch: pytest.MonkeyPatch) -> LifecyclePlanner:
    """The planner's code in the environment the stack gives `function` (one of the planner's), its audit
    events recorded instead of put on a bus."""
    env = workers.environment(function)
    monkeypatch.setattr(observability, "SERVICE", env["POWERTOOLS_SERVICE_NAME"])
    monkeypatch.setattr(observability, "METRICS_NAMESPACE", env["POWERTOOLS_METRICS_NAMESPACE"])
    planner = LifecyclePlanner()
    planner.consumer.settings = settings_from(PlannerSettings, env)
    planner.consumer.clients.events = RecordingEvents()  # type: ignore[assignment]
    return planner


def test_the_hold_alarm_watches_the_metric_the_planner_emits_when_it_holds_a_leaver(
    synthesized: Synthesized, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the planner's code, in the environment the stack gives its function
    planner = planner_as_deployed(workers, PLANNER.name, monkeypatch)
    # When a leaver arrives past the threshold, and the planner publishes the sequencer's audit event
    leaver = parse_lifecycle_event("EmployeeOffboarded", {"employeeId": "E-1", "username": "jdoe"})
    plan = plan_for(leaver, plan_id="evt-1", event_time=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC))
    _, effects = transition(PersonState(username="jdoe"), PlanArrived(plan), leaver_admitted=False)
    assert effects.now_held
    ((outcome, detail),) = effects.audits
    planner.consumer.outcomes.publish(outcome, detail)
    # What the handler prints at the end of the invocation (EMF)
    emf: dict[str, Any] = dict(planner.consumer.metrics.emf.serialize_metric_set())
    (metric_set,) = emf["_aws"]["CloudWatchMetrics"]
    (dimension_names,) = metric_set["Dimensions"]
    emitted = {
        "namespace": metric_set["Namespace"],
        "metric": [m["Name"] for m in metric_set["Metrics"]],
        "dimensions": {name: emf[name] for name in dimension_names},
    }
    # Then one alarm watches exactly that metric, with exactly those dimensions
    alarms = [
        alarm["Properties"]
        for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == emitted["namespace"]
        and alarm["Properties"]["MetricName"] == outcome
    ]
    (alarm,) = alarms
    assert emitted["metric"] == [alarm["MetricName"]] == [outcome]
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == emitted["dimensions"]
    assert emitted["dimensions"]["action"] == PLANNER.name
    # Sum >= 1 over 5 minutes, to the alarm topic
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    (topic,) = synthesized.of_type("AWS::SNS::Topic")
    assert [ref_target(action) for action in alarm["AlarmActions"]] == [topic]
    assert alarm["AlarmName"] == f"{synthesized.context['resourcePrefix']}-{PLANNER.name}-hold-active"
    # and the audit event went out with a source the planner's role may publish
    (entry,) = planner.consumer.clients.events.entries  # type: ignore[attr-defined]
    assert entry["Source"] == synthesized.context["outcomeEventSource"]
    assert entry["DetailType"] == outcome


def test_the_lock_out_slo_alarm_watches_the_time_the_planner_emits_when_a_leaver_is_locked_out(
    synthesized: Synthesized, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the planner's code, in the environment the stack gives its lock-out lane
    planner = planner_as_deployed(workers, PLANNER.lock_out_lane_name, monkeypatch)
    # When a leaver's lock-out steps are applied 75 s after its HR event
    leaver = parse_lifecycle_event("EmployeeOffboarded", {"employeeId": "E-1", "username": "jdoe"})
    event_time = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    state, effects = transition(
        PersonState(username="jdoe"),
        PlanArrived(plan_for(leaver, plan_id="evt-1", event_time=event_time)),
        leaver_admitted=True,
    )
    applied = event_time + datetime.timedelta(seconds=75)
    for command in effects.commands:
        ended = StepEnded("ActionSucceeded", {"idempotencyKey": command.idempotency_key}, at=applied)
        state, locked_out = transition(state, ended, leaver_admitted=True)
    planner._apply("jdoe", locked_out)
    emf: dict[str, Any] = dict(planner.consumer.metrics.emf.serialize_metric_set())
    (metric_set,) = emf["_aws"]["CloudWatchMetrics"]
    (dimension_names,) = metric_set["Dimensions"]
    assert emf[TIME_TO_LOCK_OUT] == [75.0]
    # Then the SLO alarm watches exactly that metric and dimensions, at its maximum over 5 minutes
    (alarm,) = [
        alarm["Properties"]
        for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == TIME_TO_LOCK_OUT
    ]
    assert alarm["Namespace"] == metric_set["Namespace"]
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        name: emf[name] for name in dimension_names
    }
    assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 300)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == synthesized.context["lockOutSloSeconds"]
