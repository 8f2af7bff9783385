"""Benchmark 6: time to lock-out under a backlog, with the planner's lock-out lane and without it.

Per variant, a fresh local AWS and deployment (cdk.json's, with `lockOutLane` as the variant says), its
whole pipeline running (every function of the template, at its event source's maximum concurrency) with
Cognito's quotas enforced at QUOTA_SCALE: the leavers' users exist already; JOINERS joiner HR events are
published, then LEAVERS leaver HR events (under the leaver threshold). A leaver's time to lock-out is from the
moment its HR event was published to the moment its `LeaverLockedOut` audit event is read from a queue of
those audits alone (both on this process's clock, so not limited to EventBridge's whole seconds); the run
stops once every leaver is locked out, or after the variant's time limit, which then counts as a lower
bound.

Why a scale: the emulator serves about 40 commands/s on this machine, below Cognito's real rates; at
QUOTA_SCALE the quotas bind before the emulator does. A lock-out is two UserUpdate calls, so LEAVERS
lock-outs need at least 2 * LEAVERS / (UserUpdate's rate * QUOTA_SCALE) seconds, printed beside the
figures with what that minimum is at Cognito's own rate.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import boto3

from benchmarks.report import Figure, describe_machine, render
from cognito_workers.catalog import ACTIONS_BY_NAME, PLANNER
from cognito_workers.lifecycle.state import LOCKED_OUT
from local_aws.deployment import HR_SOURCE, LocalDeployment, provision
from local_aws.pipeline import LocalPipeline, quiet_local_workers
from local_aws.server import start_local_aws
from operator_cli.app import put_events_in_batches
from operator_cli.audit import AuditQueue
from operator_cli.local import percentile, time_to_lock_out

JOINERS = 10_000
LEAVERS = 50
QUOTA_SCALE = 0.4  # whole requests per second in every category, binding before the emulator
GOAL_P99_SECONDS = 5.0
VISIBILITY_TIMEOUT_SECONDS = 5
TIME_LIMIT_SECONDS = {True: 300.0, False: 120.0}  # by lane: without it, the leavers wait for the backlog


@dataclass(frozen=True)
class LockOutRun:
    seconds: tuple[float, ...]  # per leaver; the time limit for those not locked out within it
    locked_out: int
    time_limit: float

    def describe(self) -> str:
        return time_to_lock_out(self.seconds, at_least=self.time_limit)


def lock_out_under_backlog(*, lane: bool, joiners: int, leavers: int) -> LockOutRun:
    quiet_local_workers()
    with start_local_aws() as aws:
        aws.export_environment()
        deployment = provision(
            aws.endpoint_url,
            aws.region,
            visibility_timeout_seconds=VISIBILITY_TIMEOUT_SECONDS,
            lock_out_lane=lane,
            quota_scale=QUOTA_SCALE,
        )
        leaver_names = _existing_users(deployment, leavers)
        audits_url = _lock_out_audits(deployment)
        aws.enforce_quotas(True, QUOTA_SCALE)
        pipeline = LocalPipeline.for_deployment(deployment)
        pipeline.start()
        try:
            events = boto3.client("events")
            put_events_in_batches(events, [_joiner(deployment, number) for number in range(joiners)])
            published: dict[str, float] = {}
            for username in leaver_names:
                entry = _leaver(deployment, username)
                (put,) = events.put_events(Entries=[entry])["Entries"]  # type: ignore[list-item]
                published[put["EventId"]] = time.monotonic()
            locked_out = _wait_for_lock_outs(audits_url, published, TIME_LIMIT_SECONDS[lane])
        finally:
            pipeline.stop()
    limit = TIME_LIMIT_SECONDS[lane]
    seconds = tuple(locked_out.get(plan_id, limit) for plan_id in published)
    return LockOutRun(seconds=seconds, locked_out=len(locked_out), time_limit=limit)


def _existing_users(deployment: LocalDeployment, count: int) -> list[str]:
    """The leavers' users, created before the backlog (set-up, quotas off)."""
    cognito = boto3.client("cognito-idp")
    names = [f"leaver-{number}" for number in range(count)]
    for username in names:
        cognito.admin_create_user(
            UserPoolId=deployment.user_pool_id, Username=username, MessageAction="SUPPRESS"
        )
    return names


def _joiner(deployment: LocalDeployment, number: int) -> dict[str, Any]:
    detail = {
        "employeeId": f"J{number}",
        "username": f"joiner-{number}",
        "email": f"joiner-{number}@example.com",
        "groups": ["staff"],
        "sendInvitation": False,
    }
    return _entry(deployment, "EmployeeOnboarded", detail)


def _leaver(deployment: LocalDeployment, username: str) -> dict[str, Any]:
    return _entry(deployment, "EmployeeOffboarded", {"employeeId": username.upper(), "username": username})


def _entry(deployment: LocalDeployment, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "EventBusName": deployment.event_bus_name,
        "Source": HR_SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
    }


def _lock_out_audits(deployment: LocalDeployment) -> str:
    """A queue of the planner's LeaverLockedOut audits alone (the benchmark's addition, not the stack's): read
    from the whole audit stream, they would wait behind the backlog's tens of thousands of audits."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="bench-lock-out-audits")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": [deployment.planner_settings().outcome_event_source], "detail-type": [LOCKED_OUT]}
    events.put_rule(
        Name="bench-lock-out-audits", EventBusName=deployment.event_bus_name, EventPattern=json.dumps(pattern)
    )
    events.put_targets(
        Rule="bench-lock-out-audits",
        EventBusName=deployment.event_bus_name,
        Targets=[{"Id": "q", "Arn": arn}],
    )
    return url


def _wait_for_lock_outs(audits_url: str, published: dict[str, float], time_limit: float) -> dict[str, float]:
    """Each leaver's seconds from its publication to its LeaverLockedOut read from `audits_url`."""
    locked_out: dict[str, float] = {}
    stopping = threading.Event()
    timer = threading.Timer(time_limit, stopping.set)
    timer.start()
    audit = AuditQueue(boto3.client("sqs"), audits_url, wait_seconds=1)
    try:
        for event in audit.read(follow=True, stopping=stopping):
            plan_id = event["detail"].get("planId")
            if plan_id in published:
                locked_out[plan_id] = time.monotonic() - published[plan_id]
                if len(locked_out) == len(published):
                    break
    finally:
        timer.cancel()
    return locked_out


def run(*, smoke: bool = False) -> list[Figure]:
    joiners, leavers = (100, 5) if smoke else (JOINERS, LEAVERS)
    with_lane = lock_out_under_backlog(lane=True, joiners=joiners, leavers=leavers)
    without_lane = lock_out_under_backlog(lane=False, joiners=joiners, leavers=leavers)
    rate = ACTIONS_BY_NAME["AdminDisableUser"].quota.requests_per_second * QUOTA_SCALE
    minimum = len(PLANNER.lock_out_actions) * leavers / rate
    p99 = percentile(with_lane.seconds, 0.99)
    return [
        Figure(
            name="time to lock-out under a backlog (lane)",
            measured=f"p99 {p99:.1f} s",
            goal=f"p99 < {GOAL_P99_SECONDS:.0f} s",
            met=p99 < GOAL_P99_SECONDS and with_lane.locked_out == leavers,
            details=(
                f"{joiners} joiner HR events, then {leavers} leavers; quotas at {QUOTA_SCALE}x Cognito's",
                f"with the lock-out lane: {with_lane.describe()};"
                f" {with_lane.locked_out}/{leavers} locked out",
                f"without it: {without_lane.describe()}; {without_lane.locked_out}/{leavers} locked out "
                f"within {without_lane.time_limit:.0f} s",
                f"the quota-bound minimum for {leavers} lock-outs ({len(PLANNER.lock_out_actions)} UserUpdate"
                f" calls each at {rate:.1f}/s) is {minimum:.1f} s; at Cognito's own rate,"
                f" {minimum * QUOTA_SCALE:.1f} s",
            ),
        )
    ]


if __name__ == "__main__":
    print(describe_machine())
    print(render(run()))
