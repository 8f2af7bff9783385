"""The CLI's commands that run on a local AWS of their own: demo, run and serve."""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from rich.table import Table

from cognito_workers.catalog import ResourceNames
from cognito_workers.observability import logger
from local_aws.deployment import HR_SOURCE, PREFIX, SANDBOX_GROUPS, LocalDeployment, provision
from local_aws.pipeline import LocalPipeline, PipelineStats
from local_aws.roster import generate_roster, verify_pool
from local_aws.server import start_local_aws
from operator_cli.app import EXIT_FAILED, EXIT_OK, console, hr_entries, queue_depths
from operator_cli.hr_files import HrEventRecord, read_hr_events

DRAIN_TIMEOUT_SECONDS = 600
SERVING = "serving; Ctrl-C stops it"


def quiet_local_workers(log_level: str = "ERROR") -> None:
    """The workers log at `log_level` and up, without metrics or traces (the demo's malformed events are
    rejected on purpose: their warnings would drown its summary)."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", log_level)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    # An invocation that only moved a plan along has no metric to publish; Powertools warns each time.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    logger.setLevel(os.environ["POWERTOOLS_LOG_LEVEL"])  # the workers' logger exists already


@contextmanager
def local_deployment(port: int = 0, log_level: str = "ERROR") -> Iterator[LocalDeployment]:
    """A fresh local AWS with everything provisioned; the workers as `quiet_local_workers` sets them."""
    quiet_local_workers(log_level)
    with start_local_aws(port=port) as aws:
        aws.export_environment()
        yield provision(aws.endpoint_url, aws.region, visibility_timeout_seconds=5)


def publish_and_drain(
    deployment: LocalDeployment, records: list[HrEventRecord]
) -> tuple[PipelineStats, float]:
    events = boto3.client("events")
    started = time.perf_counter()
    entries = hr_entries(records, ResourceNames(PREFIX).bus)
    with console.status(f"publishing {len(entries)} HR events"):
        for start in range(0, len(entries), 10):
            events.put_events(Entries=entries[start : start + 10])  # type: ignore[arg-type]
    pipeline = LocalPipeline.for_deployment(deployment)
    with console.status("running the pipeline until every queue is empty"):
        stats = pipeline.drain(timeout_s=DRAIN_TIMEOUT_SECONDS)
    return stats, time.perf_counter() - started


def outcome_table(deployment: LocalDeployment) -> tuple[Table, Counter[str]]:
    """Per function: how each input ended, read from the audit events and the DLQs."""
    sqs = boto3.client("sqs")
    per_function: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    while messages := sqs.receive_message(QueueUrl=deployment.outcomes_queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            event = json.loads(message["Body"])
            function = event["detail"].get("action") or "LifecyclePlanner"
            per_function.setdefault(function, Counter())[event["detail-type"]] += 1
            totals[event["detail-type"]] += 1
        sqs.delete_message_batch(
            QueueUrl=deployment.outcomes_queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    columns = ("succeeded", "skipped", "rejected", "failed", "in DLQ")
    kinds = ("Succeeded", "Skipped", "Rejected", "Failed")
    table = Table(title="outcomes per function")
    table.add_column("function")
    for column in columns:
        table.add_column(column, justify="right")
    for function in sorted(per_function):
        counts = per_function[function]
        waiting, in_flight = queue_depths(
            sqs, deployment.queues.get(function, deployment.planner_queue).dead_letter_url
        )
        in_dlq = waiting + in_flight
        row = [sum(n for kind_name, n in counts.items() if kind_name.endswith(kind)) for kind in kinds]
        table.add_row(function, *(str(n) for n in row), str(in_dlq))
    return table, totals


def cmd_demo(args: argparse.Namespace) -> int:
    roster = generate_roster(args.joiners, groups=SANDBOX_GROUPS, seed=args.seed)
    console.print(
        f"roster: {args.joiners} joiners, then movers and leavers among them, and {roster.malformed} "
        f"malformed events ({len(roster.events)} HR events)"
    )
    with local_deployment() as deployment:
        stats, elapsed = publish_and_drain(deployment, roster.events)
        table, totals = outcome_table(deployment)
        console.print(table)
        problems = verify_pool(boto3.client("cognito-idp"), deployment.user_pool_id, roster.expected)
    commands = sum(n for kind, n in totals.items() if kind.startswith("Action"))
    console.print(
        f"{len(roster.events)} HR events -> {commands} commands in {elapsed:.1f} s "
        f"({commands / elapsed:.0f} commands/s, {stats.records_received} records delivered)"
    )
    if problems:
        console.print(f"[red]the pool differs from the roster in {len(problems)} ways:[/red]")
        for problem in problems[:20]:
            console.print(f"  {problem}")
        return EXIT_FAILED
    console.print(f"[green]the pool matches the roster: {len(roster.expected)} people checked[/green]")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    records = read_hr_events(Path(args.file))
    with local_deployment() as deployment:
        stats, elapsed = publish_and_drain(deployment, records)
        table, _ = outcome_table(deployment)
        console.print(table)
    console.print(f"{len(records)} HR events drained in {elapsed:.1f} s ({stats.records_received} records)")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        with (
            local_deployment(port=args.port, log_level="WARNING") as deployment,
            LocalPipeline.for_deployment(deployment),
        ):
            detail = json.dumps({"employeeId": "E1", "email": "e1@example.com", "sendInvitation": False})
            entry = {
                "EventBusName": deployment.event_bus_name,
                "Source": HR_SOURCE,
                "DetailType": "EmployeeOnboarded",
                "Detail": detail,
            }
            console.print(f"local AWS at {deployment.endpoint_url} (user pool {deployment.user_pool_id})")
            console.print(
                f"  export AWS_ENDPOINT_URL={deployment.endpoint_url} AWS_DEFAULT_REGION={deployment.region} "
                "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
            )
            console.print(f"  aws events put-events --entries '{json.dumps([entry])}'")
            console.print(SERVING)
            console.file.flush()  # a supervisor reading the pipe waits for this line
            threading.Event().wait()
    except KeyboardInterrupt:
        console.print("stopped")
    return EXIT_OK
