"""Benchmark 4: the local pipeline end to end, the workers' real code over HTTP to the local server.

Quota-bound drain: AdminCreateUser commands (10,000) waiting on the action's queue, drained by its function
with the maximum concurrency the template gives its event source mapping, while the local server
enforces Cognito's quotas. The achieved rate is users created per second between the first and the last
creation, against the UserCreation quota; lost = commands - users created - messages in the dead-letter
queue.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import boto3

from benchmarks.report import Figure, describe_machine, render
from cognito_workers.catalog import ACTIONS_BY_NAME
from local_aws.deployment import LocalDeployment, provision
from local_aws.pipeline import LocalPipeline, action_function, quiet_local_workers
from local_aws.server import start_local_aws
from operator_cli.app import queue_depths

QUOTA_ACTION = "AdminCreateUser"
QUOTA_GOAL = 0.95
DRAIN_TIMEOUT_SECONDS = 1800
# The local deployment's visibility timeout: a throttled record is back on its queue after this.
VISIBILITY_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class QuotaDrain:
    commands: int
    maximum_concurrency: int
    quota_per_second: int
    created: int
    creation_seconds: float
    drain_seconds: float
    dead_lettered: int
    deliveries: int
    throttled: int

    @property
    def achieved_per_second(self) -> float:
        return (self.created - 1) / self.creation_seconds if self.creation_seconds else 0.0

    @property
    def lost(self) -> int:
        return self.commands - self.created - self.dead_lettered


def quota_bound_drain(commands: int) -> QuotaDrain:
    quiet_local_workers()
    with start_local_aws() as aws:
        aws.export_environment()
        deployment = provision(
            aws.endpoint_url, aws.region, visibility_timeout_seconds=VISIBILITY_TIMEOUT_SECONDS
        )
        _enqueue_creations(deployment, commands)
        aws.enforce_quotas()
        concurrency = deployment.functions[QUOTA_ACTION].maximum_concurrency
        pipeline = LocalPipeline([action_function(deployment, QUOTA_ACTION)])
        started = time.perf_counter()
        stats = pipeline.drain(timeout_s=DRAIN_TIMEOUT_SECONDS)
        drain_seconds = time.perf_counter() - started
        throttled = aws.quota_report().throttled[ACTIONS_BY_NAME[QUOTA_ACTION].quota.quota_name]
        created_at = sorted(_creation_times(deployment))
        waiting, in_flight = queue_depths(
            boto3.client("sqs"), deployment.queues[QUOTA_ACTION].dead_letter_url
        )
    return QuotaDrain(
        commands=commands,
        maximum_concurrency=concurrency,
        quota_per_second=ACTIONS_BY_NAME[QUOTA_ACTION].quota.requests_per_second,
        created=len(created_at),
        creation_seconds=created_at[-1] - created_at[0] if created_at else 0.0,
        drain_seconds=drain_seconds,
        dead_lettered=waiting + in_flight,
        deliveries=stats.records_received,
        throttled=throttled,
    )


def _enqueue_creations(deployment: LocalDeployment, commands: int) -> None:
    sqs = boto3.client("sqs")
    for start in range(0, commands, 10):
        sqs.send_message_batch(
            QueueUrl=deployment.queues[QUOTA_ACTION].url,
            Entries=[
                {
                    "Id": str(number),
                    "MessageBody": json.dumps(
                        {
                            "action": QUOTA_ACTION,
                            "params": {"Username": f"bench-{number}", "MessageAction": "SUPPRESS"},
                        }
                    ),
                }
                for number in range(start, min(start + 10, commands))
            ],
        )


def _creation_times(deployment: LocalDeployment) -> list[float]:
    pages = (
        boto3.client("cognito-idp").get_paginator("list_users").paginate(UserPoolId=deployment.user_pool_id)
    )
    return [user["UserCreateDate"].timestamp() for page in pages for user in page["Users"]]


def run(*, smoke: bool = False) -> list[Figure]:
    drain = quota_bound_drain(60 if smoke else 10_000)
    share = drain.achieved_per_second / drain.quota_per_second
    return [
        Figure(
            name="quota-bound drain: achieved / quota",
            measured=f"{share:.2f}x",
            goal=f">= {QUOTA_GOAL}x, 0 lost, 0 in DLQ",
            met=share >= QUOTA_GOAL and drain.lost == 0 and drain.dead_lettered == 0,
            details=(
                f"{drain.commands} {QUOTA_ACTION} commands, maximum concurrency {drain.maximum_concurrency} "
                f"(the stack's), quotas enforced",
                f"achieved {drain.achieved_per_second:.1f}/s against {drain.quota_per_second}/s; "
                f"{drain.created} users created in {drain.creation_seconds:.1f} s, queue drained in "
                f"{drain.drain_seconds:.1f} s",
                f"lost {drain.lost}, in DLQ {drain.dead_lettered}, {drain.deliveries} deliveries, "
                f"{drain.throttled} calls throttled",
            ),
        ),
    ]


if __name__ == "__main__":
    print(describe_machine())
    print(render(run()))
