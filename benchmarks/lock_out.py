"""Benchmark 6: time to lock-out under a backlog, with the planner's lock-out lane and without it.

Per variant, a fresh local AWS and deployment (cdk.json's, with `lockOutLane` as the variant says), its
whole pipeline running (every function of the template, at its event source's maximum concurrency) with
Cognito's quotas enforced at QUOTA_SCALE: the leavers' users exist already; JOINERS joiner HR events are
published, then LEAVERS leaver HR events (under the leaver threshold). A leaver's time to lock-out is from the
moment its HR event was published to the moment the outcome events of both its lock-out calls (disable,
global sign-out), each put on the bus once its call applied, are read from a queue of those events alone;
the time to its `LeaverLockedOut` audit, which the planner publishes once both outcomes reached it, is
printed beside it (all on this process's clock, so not limited to EventBridge's whole seconds). The run
stops once every leaver is locked out, or after the variant's time limit, which then counts as a lower
bound.

Why these scales: the goal is for Cognito's own rates, and a lock-out is two UserUpdate calls, so UserUpdate
runs at Cognito's 25/s: LEAVERS lock-outs need at least 2 * LEAVERS / 25 seconds (4 s), printed beside the
figures. The emulator serves about 40 commands/s on this machine, which the joiners at Cognito's 50
creations/s would saturate, so that the emulator, not the quota, would set the pace; UserCreation runs at a
tenth (5/s, the joiners' group adds then take 5 of UserUpdate's 25/s) and the categories the run does not
use at a fifth, so the quotas bind before the emulator does.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import boto3

from benchmarks import hr_events
from benchmarks.report import Figure, describe_machine, render
from cognito_workers.catalog import PLANNER
from cognito_workers.lifecycle.state import LOCKED_OUT
from local_aws.deployment import LocalDeployment, provision
from local_aws.pipeline import LocalPipeline, quiet_local_workers
from local_aws.quotas import QuotaScale
from local_aws.server import start_local_aws
from operator_cli.app import put_events_in_batches
from operator_cli.audit import AuditQueue
from operator_cli.local import percentile, time_to_lock_out

JOINERS = 10_000
LEAVERS = 50
QUOTA_SCALE = QuotaScale(0.2, {"UserUpdate": 1.0, "UserCreation": 0.1})  # see the module's docstring
GOAL_P99_SECONDS = 5.0
VISIBILITY_TIMEOUT_SECONDS = 5
TIME_LIMIT_SECONDS = {True: 300.0, False: 120.0}  # by lane: without it, the leavers wait for the backlog


@dataclass(frozen=True)
class LockOutRun:
    """Per leaver, seconds from its HR event's publication: to the later of its two lock-out calls applied
    (the issue's time to lock-out), and to its LeaverLockedOut audit; the time limit for those not there
    within it."""

    applied: tuple[float, ...]
    audited: tuple[float, ...]
    time_limit: float
    busiest_second: int  # the most lock-out category calls the local Cognito let through in one second

    @property
    def locked_out(self) -> int:
        return sum(seconds < self.time_limit for seconds in self.applied)

    def describe(self) -> str:
        return (
            f"calls applied {time_to_lock_out(self.applied, at_least=self.time_limit)};"
            f" LeaverLockedOut read {time_to_lock_out(self.audited, at_least=self.time_limit)}"
        )


def lock_out_under_backlog(*, lane: bool, joiners: int, leavers: int) -> LockOutRun:
    quiet_local_workers()
    limit = TIME_LIMIT_SECONDS[lane]
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
        observed_url = _lock_out_observed(deployment)
        aws.enforce_quotas(True, QUOTA_SCALE)
        pipeline = LocalPipeline.for_deployment(deployment)
        pipeline.start()
        try:
            events = boto3.client("events")
            joining = [hr_events.joiner(f"joiner-{number}", f"J{number}") for number in range(joiners)]
            put_events_in_batches(events, hr_events.entries(deployment, joining))
            published: dict[str, float] = {}
            for username in leaver_names:
                entry = hr_events.entries(deployment, [hr_events.leaver(username)])
                events.put_events(Entries=entry)  # type: ignore[arg-type]
                published[username] = time.monotonic()
            observed = _observe_lock_outs(observed_url, published, limit)
            busiest_second = aws.quota_report().busiest_second(PLANNER.lock_out_category.quota_name)
        finally:
            pipeline.stop()
    calls = len(PLANNER.lock_out_actions)
    return LockOutRun(
        applied=tuple(
            max(steps.values()) if len(steps := observed.applied.get(name, {})) == calls else limit
            for name in published
        ),
        audited=tuple(observed.audited.get(name, limit) for name in published),
        time_limit=limit,
        busiest_second=busiest_second,
    )


def _existing_users(deployment: LocalDeployment, count: int) -> list[str]:
    """The leavers' users, created before the backlog (set-up, quotas off)."""
    cognito = boto3.client("cognito-idp")
    names = [f"leaver-{number}" for number in range(count)]
    for username in names:
        cognito.admin_create_user(
            UserPoolId=deployment.user_pool_id, Username=username, MessageAction="SUPPRESS"
        )
    return names


def _lock_out_observed(deployment: LocalDeployment) -> str:
    """A queue of the lock-out steps' outcomes and the planner's LeaverLockedOut audits alone (the
    benchmark's addition, not the stack's): read from the whole audit stream, they would wait behind the
    backlog's tens of thousands of audits."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="bench-lock-out-observed")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = deployment.planner_settings().outcome_event_source
    patterns = {
        "bench-lock-out-audits": {"source": [source], "detail-type": [LOCKED_OUT]},
        "bench-lock-out-steps": {
            "source": [source],
            "detail-type": ["ActionSucceeded", "ActionSkipped"],
            "detail": {"action": sorted(PLANNER.lock_out_actions)},
        },
    }
    for name, pattern in patterns.items():
        events.put_rule(Name=name, EventBusName=deployment.event_bus_name, EventPattern=json.dumps(pattern))
        events.put_targets(
            Rule=name, EventBusName=deployment.event_bus_name, Targets=[{"Id": "q", "Arn": arn}]
        )
    return url


@dataclass
class _Observed:
    applied: dict[str, dict[str, float]] = field(default_factory=dict)  # username: action: seconds
    audited: dict[str, float] = field(default_factory=dict)  # username: seconds to LeaverLockedOut

    def complete(self, leavers: int) -> bool:
        calls = len(PLANNER.lock_out_actions)
        return (
            len(self.audited) == leavers
            and sum(len(steps) == calls for steps in self.applied.values()) == leavers
        )


def _observe_lock_outs(url: str, published: dict[str, float], time_limit: float) -> _Observed:
    """Per leaver (by username), the seconds from its publication to each lock-out step's outcome and to its
    LeaverLockedOut, as read from `url`: a step's outcome is put on the bus once its call has applied."""
    observed = _Observed()
    stopping = threading.Event()
    timer = threading.Timer(time_limit, stopping.set)
    timer.start()
    audit = AuditQueue(boto3.client("sqs"), url, wait_seconds=1)
    try:
        for event in audit.read(follow=True, stopping=stopping):
            detail = event["detail"]
            username = detail.get("username")
            if username not in published:
                continue
            seconds = time.monotonic() - published[username]
            if event["detail-type"] == LOCKED_OUT:
                observed.audited.setdefault(username, seconds)
            else:
                observed.applied.setdefault(username, {}).setdefault(detail["action"], seconds)
            if observed.complete(len(published)):
                break
    finally:
        timer.cancel()
    return observed


def run(*, smoke: bool = False) -> list[Figure]:
    joiners, leavers = (100, 5) if smoke else (JOINERS, LEAVERS)
    with_lane = lock_out_under_backlog(lane=True, joiners=joiners, leavers=leavers)
    without_lane = lock_out_under_backlog(lane=False, joiners=joiners, leavers=leavers)
    category = PLANNER.lock_out_category
    rate = QUOTA_SCALE.rate(category)
    minimum = len(PLANNER.lock_out_actions) * leavers / rate
    p99 = percentile(with_lane.applied, 0.99)
    return [
        Figure(
            name="time to lock-out under a backlog (lane)",
            measured=f"p99 {p99:.1f} s",
            goal=f"p99 < {GOAL_P99_SECONDS:.0f} s",
            met=p99 < GOAL_P99_SECONDS and with_lane.locked_out == leavers,
            details=(
                f"{joiners} joiner HR events, then {leavers} leavers; quotas and budget at Cognito's rates"
                f" times {_describe(QUOTA_SCALE)}",
                f"with the lock-out lane: {with_lane.describe()};"
                f" {with_lane.locked_out}/{leavers} locked out; {category.quota_name} calls let through in"
                f" its busiest second: {with_lane.busiest_second} of {rate:g}",
                f"without it: {without_lane.describe()}; {without_lane.locked_out}/{leavers} locked out "
                f"within {without_lane.time_limit:.0f} s",
                "time to lock-out: from a leaver's HR event published to the outcome events of both its"
                " lock-out calls read (each put on the bus once its call applied); LeaverLockedOut, the"
                " planner's audit once both outcomes reached it, beside it",
                f"the quota-bound minimum for {leavers} lock-outs ({len(PLANNER.lock_out_actions)}"
                f" {category.quota_name} calls each at {rate:g}/s) is {minimum:.1f} s",
            ),
        )
    ]


def _describe(scale: QuotaScale) -> str:
    named = ", ".join(f"{share:g} for {name}" for name, share in scale.categories.items())
    return f"{named}, {scale.default:g} for the others"


if __name__ == "__main__":
    print(describe_machine())
    print(render(run()))
