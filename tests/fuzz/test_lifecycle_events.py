"""Fuzzed HR events for the lifecycle planner: each is planned or rejected naming the field and the reason;
in a batch, bad events never fail their valid siblings, start no plan and send no command."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cognito_workers.catalog import PLANNER
from cognito_workers.consumer import Delivery
from cognito_workers.errors import CommandRejected
from cognito_workers.lifecycle.events import parse_lifecycle_event
from cognito_workers.lifecycle.planner import LifecyclePlanner, _event_of, _event_time
from cognito_workers.lifecycle.plans import Plan, plan_for
from local_aws.deployment import HR_SOURCE, LocalDeployment
from tests.conftest import Pipeline
from tests.fuzz.conftest import HANDLER_EXAMPLES
from tests.fuzz.delivery import (
    assert_rejected_as_foreseen,
    assert_rejected_once,
    dead_letters,
    deliver,
    drain,
    lambda_record,
    outcome_of,
    outcomes_by_message,
    sqs_can_carry,
    unique,
)
from tests.fuzz.strategies import VISIBLE_INJECTIONS, event_bridge, lifecycle_cases


def plan_of(delivery: Delivery) -> Plan:
    """The planner's steps from an SQS record to a plan, without its AWS calls (the handler's order)."""
    event = _event_of(delivery)
    lifecycle_event = parse_lifecycle_event(event["detail-type"], event["detail"])
    return plan_for(lifecycle_event, plan_id=event["id"], event_time=_event_time(event))


@given(case=lifecycle_cases())
def test_an_hr_event_is_planned_or_rejected_naming_the_field(
    case: Any, fuzz_deployment: LocalDeployment, cases: Counter[str]
) -> None:
    cases["lifecycle event, planned"] += 1
    planned = outcome_of(
        lambda: plan_of(Delivery(record=lambda_record(case.body, fuzz_deployment.planner_queue)))
    )

    if isinstance(planned, CommandRejected):
        assert_rejected_as_foreseen(planned, case)
    else:
        assert case.expect != "reject", case
        detail = json.loads(case.body)["detail"]
        assert planned.username == (detail.get("username") or detail["employeeId"].lower())


@settings(max_examples=HANDLER_EXAMPLES)
@given(data=st.data())
def test_bad_hr_events_in_a_batch_are_rejected_alone_and_start_nothing(
    data: st.DataObject,
    fuzz_deployment: LocalDeployment,
    fuzz_pipeline: Pipeline,
    planner: LifecyclePlanner,
    dispatched: list[dict[str, Any]],
    cases: Counter[str],
) -> None:
    bad = data.draw(
        st.lists(
            lifecycle_cases(valid=False).filter(
                lambda case: case.expect == "reject" and sqs_can_carry(case.body)
            ),
            min_size=1,
            max_size=6,
        )
    )
    # Joiners with injection-looking, yet valid, usernames of this example's own.
    siblings = [
        event_bridge(
            "EmployeeOnboarded",
            {
                "employeeId": unique("E"),
                "username": unique(name),
                "email": f"{unique('joiner')}@example.com",
                "sendInvitation": False,
                "dryRun": dry_run,
            },
            source=HR_SOURCE,
        )
        for name, dry_run in data.draw(
            st.lists(st.tuples(st.sampled_from(VISIBLE_INJECTIONS), st.booleans()), max_size=3)
        )
    ]
    order = data.draw(st.permutations(range(len(bad) + len(siblings))))
    bodies = [*(case.body for case in bad), *(json.dumps(sibling) for sibling in siblings)]
    cases["lifecycle event, in a batch"] += len(bad)
    dispatched.clear()

    report, ids = deliver(
        fuzz_pipeline, fuzz_deployment.planner_queue, planner.handler, [bodies[i] for i in order]
    )

    assert report.failed_message_ids == ()
    message_ids = dict(zip(order, ids, strict=True))
    outcomes = outcomes_by_message(fuzz_pipeline)
    dead = dead_letters(fuzz_pipeline, fuzz_deployment.planner_queue.dead_letter_url)
    for index, case in enumerate(bad):
        assert_rejected_once(
            case,
            outcomes.pop(message_ids[index], []),
            dead.pop(message_ids[index], None),
            "LifecycleEventRejected",
        )
    assert dead == {}
    # What is left are the siblings' plan audits (keyed by no message): each started or computed its plan.
    plans = {outcome["detail"]["planId"]: outcome["detail-type"] for outcome in outcomes.pop("", [])}
    assert outcomes == {}
    assert plans == {s["id"]: "PlanComputed" if s["detail"]["dryRun"] else "PlanStarted" for s in siblings}
    # Commands went out for the siblings' plans only: none for a rejected event.
    commands = [
        entry
        for call in dispatched
        for entry in call.get("Entries", [])
        if entry["Source"] == PLANNER.command_source
    ]
    assert {json.loads(c["Detail"])["correlationId"] for c in commands} == {
        s["id"] for s in siblings if not s["detail"]["dryRun"]
    }
    # The siblings' commands reached their queues (drained here: no worker runs them).
    for action in {command["DetailType"] for command in commands}:
        drain(fuzz_pipeline, fuzz_deployment.queues[action].url)
