"""The demo's roster run, in-process on the test session's local AWS: leavers over the safety threshold are
held, then released as an operator would, and the pool ends as the roster says."""

from __future__ import annotations

import boto3

from local_aws.deployment import SANDBOX_GROUPS, provision
from local_aws.roster import generate_roster, verify_pool
from local_aws.server import LocalAws
from operator_cli.local import run_roster


def test_leavers_held_by_the_threshold_are_released_and_the_pool_matches(local_aws: LocalAws) -> None:
    deployment = provision(
        local_aws.endpoint_url,
        local_aws.region,
        prefix="roster-tests",
        leaver_threshold=1,
        visibility_timeout_seconds=5,
        batching_window_seconds=0,
    )
    roster = generate_roster(30, groups=SANDBOX_GROUPS, seed=3)
    leavers = sum(1 for event in roster.events if event.detail_type == "EmployeeOffboarded")

    outcomes, stats, _ = run_roster(deployment, roster)

    assert leavers >= 2
    assert outcomes.totals["PlanHeld"] >= 1
    assert outcomes.totals["HoldReleased"] == 1
    # Overlapping planner invocations can start a person's mover or leaver before the joiner: its first
    # steps find no user, and the plan waits for the joiner. No other rejection is expected.
    rejected = {
        event["detail"]["username"] for event in outcomes.events if event["detail-type"] == "ActionRejected"
    }
    waited = {
        event["detail"]["username"]
        for event in outcomes.events
        if event["detail"].get("reason") == "AwaitingJoiner"
    }
    assert rejected <= waited
    assert outcomes.totals["ActionFailed"] == 0
    assert stats.records_received >= outcomes.commands
    assert verify_pool(boto3.client("cognito-idp"), deployment.user_pool_id, roster.expected) == []
