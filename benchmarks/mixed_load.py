"""Benchmark 8: mixed load, three quota categories at twice their rates at once, paced by the shared budget.

The local server enforces Cognito's quotas at SCALE of their rates (the emulator runs about 40 commands/s,
below Cognito's own rates; at a fifth, the three categories together need 20 calls/s), and the stack is
provisioned with its budget at the same rates (provision(quota_scale=)). For LOAD_SECONDS, every second
puts twice each category's rate of commands on the queues of its actions, two actions per category:

- UserCreation (10/s at this scale): AdminCreateUser of new users;
- UserUpdate (5/s): AdminAddUserToGroup and AdminUpdateUserAttributes of existing users;
- UserResourceUpdate (5/s): AdminSetUserSettings and AdminUpdateDeviceStatus (the local Cognito's own:
  local_aws/cognito_extensions.py) of existing users and their devices.

While the load begins, a small HR roster goes through the planner under the same pressure: PLAN_JOINERS
joiners (a creation and a group each) and PLAN_LEAVERS leavers of users with a device (their lock-out, the
device forgotten, their groups removed), so that plans' steps wait for the same budget as the commands.

Every function of the template drains them at the concurrency the template gives it. Per category: the
achieved rate (the calls the local Cognito let through per second, over the seconds strictly inside the
busy period) against the scaled quota, and the calls it throttled. Then: lost (commands without a success,
a replayed success or a dead letter), dead letters, plans that did not complete (stalled, failed, or not
ended when the pipeline drained), and what the budget costs per command (DynamoDB UpdateItem requests of
the run, less the idempotency layer's one per applied command and plan step; places booked, from the table).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import boto3
from botocore.config import Config

from benchmarks import hr_events
from benchmarks.report import Figure, describe_machine, render
from cognito_workers.catalog import ACTIONS_BY_NAME
from cognito_workers.clients import CLIENT_CONFIG
from cognito_workers.consumer import QueueConsumer
from local_aws.deployment import LocalDeployment, provision
from local_aws.pipeline import LocalPipeline, Prepare, action_function, local_function, quiet_local_workers
from local_aws.quotas import scaled_rates
from local_aws.server import LocalAws, QuotaReport, start_local_aws
from operator_cli.app import put_events_in_batches, queue_depths

SCALE = 0.2
LOAD_SECONDS = 30
OVERLOAD = 2
RATE_GOAL = (0.9, 1.0)
THROTTLE_GOAL = 0.01
VISIBILITY_TIMEOUT_SECONDS = 5
# The roster that goes through the planner during the load.
PLAN_JOINERS = 20
PLAN_LEAVERS = 10
# Commands of the load carry idempotency keys of their own (a plan's steps start with "plan:").
COMMAND_KEY_PREFIX = "mixed-"
# On-demand DynamoDB writes, us-east-1, per million write request units (at the time of writing).
DOLLARS_PER_MILLION_WRITES = 0.625

# A set-up user: its username and its device's key.
User = tuple[str, str]
# Per category, its actions and the params of each one's `n`-th command (on a set-up user, but creations).
LOAD: dict[str, dict[str, Callable[[int, list[User]], dict[str, Any]]]] = {
    "UserCreation": {
        "AdminCreateUser": lambda n, users: {"Username": f"joiner-{n}", "MessageAction": "SUPPRESS"},
    },
    "UserUpdate": {
        "AdminAddUserToGroup": lambda n, users: {"Username": users[n % len(users)][0], "GroupName": "staff"},
        "AdminUpdateUserAttributes": lambda n, users: {
            "Username": users[n % len(users)][0],
            "UserAttributes": [{"Name": "custom:department", "Value": f"team-{n}"}],
        },
    },
    "UserResourceUpdate": {
        "AdminSetUserSettings": lambda n, users: {
            "Username": users[n % len(users)][0],
            "MFAOptions": [] if n % 2 else [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}],
        },
        "AdminUpdateDeviceStatus": lambda n, users: {
            "Username": users[n % len(users)][0],
            "DeviceKey": users[n % len(users)][1],
            "DeviceRememberedStatus": "remembered" if n % 2 else "not_remembered",
        },
    },
}
ACTIONS = tuple(action for actions in LOAD.values() for action in actions)


@dataclass(frozen=True)
class CategoryLoad:
    category: str
    quota_per_second: int
    commands: int
    allowed: int
    throttled: int
    achieved_per_second: float

    @property
    def share(self) -> float:
        return self.achieved_per_second / self.quota_per_second

    @property
    def throttled_share(self) -> float:
        return self.throttled / (self.allowed + self.throttled) if self.allowed + self.throttled else 0.0


@dataclass(frozen=True)
class Outcomes:
    """What the audit stream says of the run: the load's commands applied (distinct idempotency keys of
    their successes and replayed successes), each plan's ending, and the plans' steps applied."""

    applied: int
    plans: int
    completed: int
    steps_applied: int


@dataclass(frozen=True)
class MixedLoad:
    seconds: float
    categories: tuple[CategoryLoad, ...]
    commands: int
    applied: int
    dead_lettered: int
    budget_requests: int
    places_booked: int
    plans: int
    plans_completed: int

    @property
    def lost(self) -> int:
        return self.commands - self.applied - self.dead_lettered

    @property
    def stalled_plans(self) -> int:
        """Plans that did not complete: stalled on a step that gave up, failed, or still running."""
        return self.plans - self.plans_completed

    @property
    def requests_per_command(self) -> float:
        return self.budget_requests / self.applied if self.applied else 0.0


RetryMode = Literal["standard", "adaptive"]


def unpaced(retry_mode: RetryMode) -> Prepare:
    """For comparison only (`--compare`): a worker whose budget never binds (a rate no category reaches) and
    whose Cognito client retries in botocore's `retry_mode`: how the functions did before the budget."""

    def prepare(consumer: QueueConsumer[Any]) -> None:
        consumer.settings = consumer.configured_settings().model_copy(
            update={"quota_requests_per_second": 1000}
        )
        config = CLIENT_CONFIG.merge(Config(retries={"mode": retry_mode, "max_attempts": 3}))
        consumer.clients.cognito_idp = consumer.clients.session.client("cognito-idp", config=config)

    return prepare


def mixed_load(load_seconds: int, prepare: Prepare | None = None) -> MixedLoad:
    quiet_local_workers()
    rates = scaled_rates(SCALE)
    with start_local_aws() as aws:
        aws.export_environment()
        deployment = provision(
            aws.endpoint_url,
            aws.region,
            quota_scale=SCALE,
            visibility_timeout_seconds=VISIBILITY_TIMEOUT_SECONDS,
        )
        per_action = {
            action: OVERLOAD * rates[category] * load_seconds // len(actions)
            for category, actions in LOAD.items()
            for action in actions
        }
        commanded = max(per_action[a] for c, actions in LOAD.items() if c != "UserCreation" for a in actions)
        # The leavers' users apart from the commands' ones: a leaver's device is forgotten, which a later
        # AdminUpdateDeviceStatus of the load would find gone.
        users = _set_up_users(aws, deployment, commanded + PLAN_LEAVERS)
        users, leavers = users[:commanded], [username for username, _ in users[commanded:]]
        aws.reset_request_counts()
        aws.enforce_quotas(True, SCALE)
        started = time.perf_counter()
        functions = [
            action_function(deployment, action, prepare=prepare)
            if action in ACTIONS_BY_NAME
            else local_function(function)  # the planner's functions, the reconciler
            for action, function in deployment.functions.items()
        ]
        with LocalPipeline(functions) as pipeline:
            _publish_roster(deployment, leavers)
            _publish_at_overload(deployment, rates, users, load_seconds)
            pipeline.drain(timeout_s=600 + 10 * load_seconds)
        seconds = time.perf_counter() - started
        report = aws.quota_report()
        requests = aws.request_counts()
        outcomes = _outcomes(deployment)
        sqs = boto3.client("sqs")
        dead_letter_urls = [function.queue.dead_letter_url for function in deployment.functions.values()]
        dead_lettered = sum(sum(queue_depths(sqs, url)) for url in dead_letter_urls)
        booked = _places_booked(deployment)
    return MixedLoad(
        seconds=seconds,
        categories=tuple(
            _category_load(category, rates[category], sum(per_action[a] for a in LOAD[category]), report)
            for category in LOAD
        ),
        commands=sum(per_action.values()),
        applied=outcomes.applied,
        dead_lettered=dead_lettered,
        budget_requests=requests["UpdateItem"] - outcomes.applied - outcomes.steps_applied,
        places_booked=booked,
        plans=outcomes.plans,
        plans_completed=outcomes.completed,
    )


def _set_up_users(aws: LocalAws, deployment: LocalDeployment, count: int) -> list[User]:
    """Users (with a phone number and a remembered device each) for the update commands, quotas off."""
    cognito = boto3.client("cognito-idp")
    users = []
    for number in range(count):
        username = f"staff-{number}"
        cognito.admin_create_user(
            UserPoolId=deployment.user_pool_id,
            Username=username,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "phone_number", "Value": f"+1555{number:07d}"}],
        )
        users.append((username, aws.register_device(deployment.user_pool_id, username, "laptop")))
    return users


def _publish_roster(deployment: LocalDeployment, leavers: list[str]) -> None:
    """The roster's HR events, for the planner: joiners with a group, leavers of users with a device."""
    joiners = [hr_events.joiner(f"joiner-plan-{number}", f"J{number}") for number in range(PLAN_JOINERS)]
    leaving = [hr_events.leaver(username) for username in leavers]
    put_events_in_batches(boto3.client("events"), hr_events.entries(deployment, [*joiners, *leaving]))


def _commands(users: list[User], rates: dict[str, int]) -> Iterator[list[tuple[str, str]]]:
    """Each second's commands, (action, body): twice each category's rate, its actions in turn."""
    numbers: Counter[str] = Counter()
    while True:
        second = []
        for category, actions in LOAD.items():
            for index in range(OVERLOAD * rates[category]):
                action, make = list(actions.items())[index % len(actions)]
                number = numbers[action]
                numbers[action] += 1
                body = {
                    "action": action,
                    "idempotencyKey": f"{COMMAND_KEY_PREFIX}{action}-{number}",
                    "params": make(number, users),
                }
                second.append((action, json.dumps(body)))
        yield second


def _publish_at_overload(
    deployment: LocalDeployment, rates: dict[str, int], users: list[User], load_seconds: int
) -> None:
    sqs = boto3.client("sqs")
    start = time.monotonic()
    for offset, second in zip(range(load_seconds), _commands(users, rates), strict=False):
        by_action: dict[str, list[str]] = {}
        for action, body in second:
            by_action.setdefault(action, []).append(body)
        for action, bodies in by_action.items():
            for first in range(0, len(bodies), 10):
                sqs.send_message_batch(
                    QueueUrl=deployment.queues[action].url,
                    Entries=[
                        {"Id": str(index), "MessageBody": body}
                        for index, body in enumerate(bodies[first : first + 10])
                    ],
                )
        threading.Event().wait(max(0.0, start + offset + 1 - time.monotonic()))


def _outcomes(deployment: LocalDeployment) -> Outcomes:
    """The audit stream of the run, read to its end."""
    sqs = boto3.client("sqs")
    keys: set[str] = set()
    plans: dict[str, set[str]] = {}  # plan id: the plan events seen (an audit may arrive twice)
    while messages := sqs.receive_message(
        QueueUrl=deployment.outcomes_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    ).get("Messages", []):
        for message in messages:
            event = json.loads(message["Body"])
            detail = event["detail"]
            if event["detail-type"] in ("ActionSucceeded", "ActionSkipped"):
                keys.add(detail["idempotencyKey"])
            if "planId" in detail:
                plans.setdefault(detail["planId"], set()).add(event["detail-type"])
        sqs.delete_message_batch(
            QueueUrl=deployment.outcomes_queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    commands = {key for key in keys if key.startswith(COMMAND_KEY_PREFIX)}
    return Outcomes(
        applied=len(commands),
        plans=len(plans),
        completed=sum("PlanCompleted" in events for events in plans.values()),
        steps_applied=len(keys - commands),
    )


def _places_booked(deployment: LocalDeployment) -> int:
    table = deployment.worker_settings(ACTIONS[0]).quota_budget_table_name
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return sum(int(item["used"]["N"]) for page in pages for item in page["Items"])


def _category_load(category: str, quota: int, commands: int, report: QuotaReport) -> CategoryLoad:
    seconds = report.allowed_per_second.get(category, Counter())
    busy = sorted(seconds)
    inside = [seconds[second] for second in range(busy[0] + 1, busy[-1])] if len(busy) > 2 else []
    return CategoryLoad(
        category=category,
        quota_per_second=quota,
        commands=commands,
        allowed=report.allowed[category],
        throttled=report.throttled[category],
        achieved_per_second=sum(inside) / len(inside) if inside else 0.0,
    )


def run(*, smoke: bool = False, prepare: Prepare | None = None) -> list[Figure]:
    load = mixed_load(4 if smoke else LOAD_SECONDS, prepare)
    low, high = RATE_GOAL
    figures = [
        Figure(
            name=f"mixed load: {category.category} achieved / quota",
            measured=f"{category.share:.2f}x",
            goal=f">= {low}x, <= {high}x",
            met=low <= category.share <= high,
            details=(
                f"{category.commands} commands at {OVERLOAD}x {category.quota_per_second}/s (the quota at a"
                f" scale of {SCALE}): achieved {category.achieved_per_second:.2f}/s; {category.allowed} calls"
                f" let through, {category.throttled} throttled",
            ),
        )
        for category in load.categories
    ]
    allowed = sum(category.allowed for category in load.categories)
    throttled = sum(category.throttled for category in load.categories)
    throttled_share = throttled / (allowed + throttled) if allowed + throttled else 0.0
    cost = load.requests_per_command * DOLLARS_PER_MILLION_WRITES
    return [
        *figures,
        Figure(
            name="mixed load: calls throttled by the local Cognito",
            measured=f"{throttled_share:.2%}",
            goal=f"< {THROTTLE_GOAL:.0%}, 0 lost, 0 in DLQ, 0 stalled plans",
            met=throttled_share < THROTTLE_GOAL
            and load.lost == 0
            and load.dead_lettered == 0
            and load.stalled_plans == 0,
            details=(
                f"{throttled} of {allowed + throttled} calls; {load.commands} commands of"
                f" {', '.join(ACTIONS)}, {load.applied} applied in {load.seconds:.0f} s: lost {load.lost},"
                f" in DLQ {load.dead_lettered} (every function's)",
                f"{load.plans} plans ({PLAN_JOINERS} joiners, {PLAN_LEAVERS} leavers of users with a device)"
                f" through the planner under the same load: {load.plans_completed} completed, stalled or"
                f" not completed {load.stalled_plans}",
            ),
        ),
        Figure(
            name="mixed load: quota budget per command",
            measured=f"{load.requests_per_command:.2f} requests/command",
            goal="-",
            met=None,
            details=(
                f"DynamoDB UpdateItem: {load.places_booked} places booked,"
                f" {load.budget_requests - load.places_booked} tries on a full second; ${cost:.2f} per"
                " million commands at on-demand prices"
                f" (${DOLLARS_PER_MILLION_WRITES} per million writes)",
            ),
        ),
    ]


if __name__ == "__main__":
    print(describe_machine())
    print(render(run()))
    if "--compare" in sys.argv:
        modes: tuple[RetryMode, ...] = ("standard", "adaptive")
        for mode in modes:
            print(f"\nWithout the budget, botocore's {mode} retry mode:")
            print(render(run(prepare=unpaced(mode))))
