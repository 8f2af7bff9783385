"""Benchmarks 5 and 6: the demo's rate, and where the local emulator's time goes.

5. Demo rate: the CLI demo's roster (joiners, then movers and leavers among them) published as HR events
   and run through the planner and every action, quotas off: commands per second from the first publish
   to the last queue drained, with the CPU time the local server and the pipeline's process used.
6. Request floor: the CPU one cheap request (DynamoDB GetItem of a small item) costs the local server and
   the calling process, from one thread. Every command costs several requests (see docs/benchmarks.md), so
   this floor times the requests bounds what the demo can reach on a machine's cores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import boto3

from benchmarks.report import Figure, describe_machine, render
from local_aws.deployment import SANDBOX_GROUPS
from local_aws.roster import generate_roster
from local_aws.server import start_local_aws
from operator_cli.local import local_aws_deployment, run_roster


@dataclass(frozen=True)
class DemoRun:
    joiners: int
    commands: int
    seconds: float
    server_cpu_seconds: float
    pipeline_cpu_seconds: float


def demo_run(joiners: int) -> DemoRun:
    with local_aws_deployment() as (aws, deployment):
        roster = generate_roster(joiners, groups=SANDBOX_GROUPS, seed=7)
        server_before, pipeline_before = aws.cpu_seconds(), time.process_time()
        outcomes, _, seconds = run_roster(deployment, roster)
        server_cpu, pipeline_cpu = aws.cpu_seconds() - server_before, time.process_time() - pipeline_before
    return DemoRun(joiners, outcomes.commands, seconds, server_cpu, pipeline_cpu)


def request_floor(requests: int) -> tuple[float, float]:
    """Milliseconds of CPU per GetItem: the server's, the caller's."""
    with start_local_aws() as aws:
        aws.export_environment()
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName="floor",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="floor", Item={"pk": {"S": "person"}, "state": {"S": "x" * 200}})
        server_before, caller_before = aws.cpu_seconds(), time.process_time()
        for _ in range(requests):
            dynamodb.get_item(TableName="floor", Key={"pk": {"S": "person"}})
        server, caller = aws.cpu_seconds() - server_before, time.process_time() - caller_before
    return server * 1000 / requests, caller * 1000 / requests


def run(*, smoke: bool = False) -> list[Figure]:
    demo = demo_run(10 if smoke else 150)
    server_ms, caller_ms = request_floor(100 if smoke else 3000)
    cpu_per_command = (demo.server_cpu_seconds + demo.pipeline_cpu_seconds) * 1000 / demo.commands
    return [
        Figure(
            name="demo rate, quotas off",
            measured=f"{demo.commands / demo.seconds:.1f} commands/s",
            goal="-",
            met=None,
            details=(
                f"{demo.joiners} joiners with their movers and leavers: {demo.commands} commands in "
                f"{demo.seconds:.1f} s",
                f"CPU: local server {demo.server_cpu_seconds:.1f} s, pipeline "
                f"{demo.pipeline_cpu_seconds:.1f} s; {cpu_per_command:.1f} ms per command",
            ),
        ),
        Figure(
            name="local server CPU per request (GetItem)",
            measured=f"{server_ms:.2f} ms",
            goal="-",
            met=None,
            details=(f"the caller's CPU per request: {caller_ms:.2f} ms",),
        ),
    ]


if __name__ == "__main__":
    print(describe_machine())
    print(render(run()))
