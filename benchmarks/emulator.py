"""Benchmarks 5 to 7: the demo's rate, the requests it costs, and what a request costs the local emulator.

5. Demo rate: the CLI demo's roster (joiners, then movers and leavers among them) published as HR events
   and run through the planner and every action, quotas off: commands per second from the first publish
   to the last queue drained, with the CPU time the local server and the pipeline's process used.
6. Requests per command: every AWS request of that run, counted by the local server per operation,
   divided by the commands run.
7. CPU per request: the operations a command costs most, each called alone from one thread against a
   fresh local server, with the server's and the caller's CPU per call. These floors times the run's
   requests bound what the demo can reach on a machine's cores.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import boto3

from benchmarks.report import Figure, describe_machine, render
from local_aws.deployment import SANDBOX_GROUPS
from local_aws.roster import generate_roster
from local_aws.server import start_local_aws
from operator_cli.local import local_aws_deployment, run_roster

# Per call: the server's and the caller's CPU in milliseconds.
Floor = tuple[float, float]


@dataclass(frozen=True)
class DemoRun:
    joiners: int
    commands: int
    seconds: float
    server_cpu_seconds: float
    pipeline_cpu_seconds: float
    requests: Counter[str]


def demo_run(joiners: int) -> DemoRun:
    with local_aws_deployment() as (aws, deployment):
        roster = generate_roster(joiners, groups=SANDBOX_GROUPS, seed=7)
        aws.reset_request_counts()  # not the provisioning's
        server_before, pipeline_before = aws.cpu_seconds(), time.process_time()
        outcomes, _, seconds = run_roster(deployment, roster)
        server_cpu, pipeline_cpu = aws.cpu_seconds() - server_before, time.process_time() - pipeline_before
        requests = aws.request_counts()
    return DemoRun(joiners, outcomes.commands, seconds, server_cpu, pipeline_cpu, requests)


def operation_floors(calls: int) -> dict[str, Floor]:
    """The CPU per call of the operations a command costs most, shaped as the pipeline sends them: the
    planner's load and its conditional save, the idempotency record's completion, an event routed by a
    rule to a queue, a poll of an empty queue."""
    with start_local_aws() as aws:
        aws.export_environment()
        dynamodb, events, sqs = boto3.client("dynamodb"), boto3.client("events"), boto3.client("sqs")
        dynamodb.create_table(
            TableName="floor",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        state = {"S": json.dumps({"username": "person", "plans": ["x" * 40] * 5})}
        dynamodb.put_item(TableName="floor", Item={"pk": {"S": "person"}, "state": state})
        routed_url, idle_url = (sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("routed", "idle"))
        routed_arn = sqs.get_queue_attributes(QueueUrl=routed_url, AttributeNames=["QueueArn"])["Attributes"]
        events.put_rule(Name="floor", EventPattern=json.dumps({"source": ["floor"]}))
        events.put_targets(Rule="floor", Targets=[{"Id": "queue", "Arn": routed_arn["QueueArn"]}])
        operations: dict[str, Callable[[int], object]] = {
            "GetItem": lambda i: dynamodb.get_item(
                TableName="floor", Key={"pk": {"S": "person"}}, ConsistentRead=True
            ),
            "PutItem": lambda i: dynamodb.put_item(
                TableName="floor",
                Item={"pk": {"S": f"person{i}"}, "state": state, "version": {"N": "1"}},
                ConditionExpression="attribute_not_exists(pk) OR version = :read",
                ExpressionAttributeValues={":read": {"N": "0"}},
            ),
            "UpdateItem": lambda i: dynamodb.update_item(
                TableName="floor",
                Key={"pk": {"S": f"person{i}"}},
                UpdateExpression="SET #status = :status, #expiry = :expiry, #data = :data",
                ExpressionAttributeNames={"#status": "status", "#expiry": "expiration", "#data": "data"},
                ExpressionAttributeValues={
                    ":status": {"S": "COMPLETED"},
                    ":expiry": {"N": str(i)},
                    ":data": {"S": json.dumps({"type": "ActionSucceeded", "result": None})},
                },
            ),
            "PutEvents": lambda i: events.put_events(
                Entries=[{"Source": "floor", "DetailType": "Floor", "Detail": json.dumps({"call": i})}]
            ),
            "ReceiveMessage": lambda i: sqs.receive_message(QueueUrl=idle_url, WaitTimeSeconds=0),
        }
        floors: dict[str, Floor] = {}
        for name, call in operations.items():
            server_before, caller_before = aws.cpu_seconds(), time.process_time()
            for i in range(calls):
                call(i)
            server, caller = aws.cpu_seconds() - server_before, time.process_time() - caller_before
            floors[name] = (server * 1000 / calls, caller * 1000 / calls)
    return floors


def requests_cpu_seconds(requests: Counter[str], floors: dict[str, Floor]) -> float:
    """The least CPU the requests cost at the floors: an operation not measured at the cheapest floor."""
    cheapest = min(server + caller for server, caller in floors.values())
    return (
        sum(
            count * (sum(floors[operation]) if operation in floors else cheapest)
            for operation, count in requests.items()
        )
        / 1000
    )


def run(*, smoke: bool = False) -> list[Figure]:
    demo = demo_run(10 if smoke else 150)
    floors = operation_floors(100 if smoke else 1000)
    cpu_seconds = demo.server_cpu_seconds + demo.pipeline_cpu_seconds
    requests = sum(demo.requests.values())
    at_floors = requests_cpu_seconds(demo.requests, floors)
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
                f"{demo.pipeline_cpu_seconds:.1f} s; {cpu_seconds * 1000 / demo.commands:.1f} ms per command",
            ),
        ),
        Figure(
            name="requests per command",
            measured=f"{requests / demo.commands:.1f} requests/command",
            goal="-",
            met=None,
            details=(
                f"{requests} requests: "
                + ", ".join(f"{count} {operation}" for operation, count in demo.requests.most_common(8)),
                f"at the floors below they cost at least {at_floors:.1f} CPU seconds of the run's "
                f"{cpu_seconds:.1f} ({at_floors / cpu_seconds:.0%})",
            ),
        ),
        Figure(
            name="CPU per request, server + caller (median operation)",
            measured=f"{sorted(sum(floor) for floor in floors.values())[len(floors) // 2]:.2f} ms",
            goal="-",
            met=None,
            details=tuple(
                f"{operation}: server {server:.2f} ms, caller {caller:.2f} ms"
                for operation, (server, caller) in floors.items()
            ),
        ),
    ]


if __name__ == "__main__":
    print(describe_machine())
    print(render(run()))
