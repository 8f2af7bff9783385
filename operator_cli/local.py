"""The CLI's commands that run on a local AWS of their own: demo, run and serve."""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from rich.table import Table

from cognito_workers.consumer import QueueConsumer
from cognito_workers.observability import logger
from local_aws.deployment import HR_SOURCE, SANDBOX_GROUPS, LocalDeployment, provision
from local_aws.pipeline import FunctionStats, LocalPipeline
from local_aws.roster import Roster, generate_roster, verify_pool
from local_aws.server import LocalAws, start_local_aws
from operator_cli.app import (
    EXIT_FAILED,
    EXIT_OK,
    EventsRefused,
    console,
    hr_entries,
    put_events_in_batches,
    queue_depths,
    release_entry,
)
from operator_cli.hr_files import read_hr_events

DRAIN_TIMEOUT_SECONDS = 600
# How often the outcomes are read while the pipeline runs.
OUTCOMES_READ_SECONDS = 1.0
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
def local_aws_deployment(
    port: int = 0, log_level: str = "ERROR"
) -> Iterator[tuple[LocalAws, LocalDeployment]]:
    """A fresh local AWS with everything provisioned; the workers as `quiet_local_workers` sets them."""
    quiet_local_workers(log_level)
    with start_local_aws(port=port) as aws:
        aws.export_environment()
        yield aws, provision(aws.endpoint_url, aws.region, visibility_timeout_seconds=5)


@contextmanager
def local_deployment(port: int = 0, log_level: str = "ERROR") -> Iterator[LocalDeployment]:
    """`local_aws_deployment`'s deployment alone."""
    with local_aws_deployment(port, log_level) as (_, deployment):
        yield deployment


Drain = Callable[[], FunctionStats]


def publish(entries: list[dict[str, Any]]) -> None:
    """Put the events on the local bus; every one of them, or an error."""
    with console.status(f"publishing {len(entries)} events"):
        refused = put_events_in_batches(boto3.client("events"), entries)
    if refused:
        raise EventsRefused(f"the local bus refused {refused} of {len(entries)} events")


def pipeline_drain(
    deployment: LocalDeployment, prepare: Callable[[QueueConsumer[Any]], None] | None = None
) -> Drain:
    """Running the deployment's pipeline in this process until every queue is empty (`prepare`: see
    LocalPipeline.for_deployment)."""

    def drain() -> FunctionStats:
        pipeline = LocalPipeline.for_deployment(deployment, prepare=prepare)
        with console.status("running the pipeline until every queue is empty"):
            return pipeline.drain(timeout_s=DRAIN_TIMEOUT_SECONDS)

    return drain


class Outcomes:
    """How each input ended, per function: the audit events read off the outcomes queue, as they arrive,
    and the DLQs' depths."""

    def __init__(self, deployment: LocalDeployment) -> None:
        self._deployment = deployment
        self._sqs = boto3.client("sqs")
        self.per_function: dict[str, Counter[str]] = {}
        self.totals: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []  # every event read, in the order read

    @property
    def commands(self) -> int:
        """Commands that ended in an action outcome (ActionSucceeded, -Skipped, -Rejected, -Failed)."""
        return sum(n for kind, n in self.totals.items() if kind.startswith("Action"))

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Read the outcomes in the background while the pipeline runs, and the rest once it has drained:
        the queue stays shallow, and the reading overlaps the pipeline's work instead of following it (7,000
        events read after the 1,000-joiner demo had drained took 13 s)."""
        stop = threading.Event()

        def keep_reading() -> None:
            while not stop.wait(OUTCOMES_READ_SECONDS):
                self.collect()

        reader = threading.Thread(target=keep_reading, name="outcomes", daemon=True)
        reader.start()
        try:
            yield
        finally:
            stop.set()
            reader.join()
            self.collect()

    def collect(self) -> None:
        queue_url = self._deployment.outcomes_queue_url
        while messages := self._sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                event = json.loads(message["Body"])
                self.events.append(event)
                function = event["detail"].get("action") or "LifecyclePlanner"
                self.per_function.setdefault(function, Counter())[event["detail-type"]] += 1
                self.totals[event["detail-type"]] += 1
            self._sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def table(self) -> Table:
        columns = ("succeeded", "skipped", "rejected", "failed", "in DLQ")
        kinds = ("Succeeded", "Skipped", "Rejected", "Failed")
        table = Table(title="outcomes per function")
        table.add_column("function")
        for column in columns:
            table.add_column(column, justify="right")
        for function in sorted(self.per_function):
            counts = self.per_function[function]
            queues = self._deployment.queues.get(function, self._deployment.planner_queue)
            waiting, in_flight = queue_depths(self._sqs, queues.dead_letter_url)
            row = [sum(n for kind_name, n in counts.items() if kind_name.endswith(kind)) for kind in kinds]
            table.add_row(function, *(str(n) for n in row), str(waiting + in_flight))
        return table


def run_roster(
    deployment: LocalDeployment, roster: Roster, drain: Drain | None = None
) -> tuple[Outcomes, FunctionStats, float]:
    """The roster's HR events through the pipeline (`drain`, by default `pipeline_drain`). Leavers held by
    the safety threshold are released, as an operator would with `cognito-lifecycle release`, and the
    pipeline drained again."""
    drain = drain or pipeline_drain(deployment)
    started = time.perf_counter()
    outcomes = Outcomes(deployment)
    publish(hr_entries(roster.events, deployment.event_bus_name))
    with outcomes.collecting():
        stats = drain()
    if held := outcomes.totals["PlanHeld"]:
        console.print(
            f"{held} leavers held by the safety threshold (leaverThreshold in cdk.json); releasing them as "
            "`cognito-lifecycle release` does"
        )
        publish([release_entry(deployment.event_bus_name, operator="demo", reason="generated roster")])
        with outcomes.collecting():
            stats += drain()
    return outcomes, stats, time.perf_counter() - started


def cmd_demo(args: argparse.Namespace) -> int:
    roster = generate_roster(args.joiners, groups=SANDBOX_GROUPS, seed=args.seed)
    console.print(
        f"roster: {args.joiners} joiners, then movers and leavers among them, and {roster.malformed} "
        f"malformed events ({len(roster.events)} HR events)"
    )
    with local_deployment() as deployment:
        outcomes, stats, elapsed = run_roster(deployment, roster)
        console.print(outcomes.table())
        problems = verify_pool(boto3.client("cognito-idp"), deployment.user_pool_id, roster.expected)
    console.print(
        f"{len(roster.events)} HR events -> {outcomes.commands} commands in {elapsed:.1f} s "
        f"({outcomes.commands / elapsed:.0f} commands/s, {stats.records_received} records delivered)"
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
        started = time.perf_counter()
        publish(hr_entries(records, deployment.event_bus_name))
        stats = pipeline_drain(deployment)()
        elapsed = time.perf_counter() - started
        outcomes = Outcomes(deployment)
        outcomes.collect()
        console.print(outcomes.table())
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
                f"  the stack's synthesized template, with local edits: {'; '.join(deployment.edits)}"
            )
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
