"""The CLI's commands that run on a local AWS of their own: demo, run and serve."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import boto3
from rich.table import Table

from cognito_workers.consumer import QueueConsumer
from cognito_workers.lifecycle.state import LOCKED_OUT
from local_aws.deployment import (
    HR_SOURCE,
    OPERATOR_SOURCE,
    OUTCOME_SOURCE,
    SANDBOX_GROUPS,
    LocalDeployment,
    provision,
)
from local_aws.errors import LocalAwsError
from local_aws.pipeline import FunctionStats, LocalPipeline, quiet_local_workers
from local_aws.roster import Roster, generate_roster, verify_pool
from local_aws.server import FAKE_CREDENTIALS, LocalAws, start_local_aws
from operator_cli.app import (
    EXIT_FAILED,
    EXIT_OK,
    EventsRefused,
    LocalAwsUnavailable,
    console,
    hr_entries,
    put_events_in_batches,
    queue_depths,
    release_entry,
    table,
)
from operator_cli.audit import ATTENTION, AuditQueue, audit_line, is_plan_event
from operator_cli.hr_files import read_hr_events

DRAIN_TIMEOUT_SECONDS = 600
# How often the outcomes are read, and the progress shown, while the pipeline runs.
OUTCOMES_READ_SECONDS = 1.0
# Without a terminal, a progress line this often (and one when the drain ends).
PLAIN_PROGRESS_SECONDS = 5.0
SERVING = "serving; Ctrl-C stops it"

T = TypeVar("T")


@contextmanager
def local_aws_deployment(
    port: int = 0, log_level: str = "ERROR"
) -> Iterator[tuple[LocalAws, LocalDeployment]]:
    """A fresh local AWS with everything provisioned; the workers as `quiet_local_workers` sets them."""
    quiet_local_workers(log_level)
    try:
        with start_local_aws(port=port) as aws:
            aws.export_environment()
            deployment = provision(aws.endpoint_url, aws.region, visibility_timeout_seconds=5)
            yield aws, deployment
    except LocalAwsError as error:  # the server, if it started, is stopped by now
        raise LocalAwsUnavailable(str(error)) from None


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
        return LocalPipeline.for_deployment(deployment, prepare=prepare).drain(
            timeout_s=DRAIN_TIMEOUT_SECONDS
        )

    return drain


class DrainProgress:
    """How far a drain has got: commands done, waiting or in flight, dead-lettered, and the rate. On a
    terminal one line kept up to date; otherwise a plain line every PLAIN_PROGRESS_SECONDS and at the end."""

    def __init__(self, deployment: LocalDeployment) -> None:
        self._queues = [function.queue for function in deployment.functions.values()]
        self._sqs = boto3.client("sqs")
        self._started = time.perf_counter()
        self._last_line = self._started

    def line(self, commands: int) -> str:
        queued = dead = 0
        for queue in self._queues:
            queued += sum(queue_depths(self._sqs, queue.url))
            dead += sum(queue_depths(self._sqs, queue.dead_letter_url))
        rate = commands / (time.perf_counter() - self._started)
        return (
            f"{commands} commands done, {queued} waiting or in flight, {dead} dead-lettered, "
            f"{rate:.1f} commands/s"
        )

    @contextmanager
    def shown(self) -> Iterator[Callable[[int], None]]:
        """A function to call with the commands done so far, while the drain runs."""
        if console.is_terminal:
            with console.status("draining") as status:
                yield lambda commands: status.update(f"draining: {self.line(commands)}")
            return
        done = 0

        def update(commands: int) -> None:
            nonlocal done
            done = commands
            if time.perf_counter() - self._last_line >= PLAIN_PROGRESS_SECONDS:
                self._last_line = time.perf_counter()
                console.print(f"draining: {self.line(commands)}", soft_wrap=True)

        yield update
        console.print(f"drained: {self.line(done)}", soft_wrap=True)


class Outcomes:
    """How each input ended, per function: the audit events read off the outcomes queue, as they arrive,
    and the DLQs' depths."""

    def __init__(self, deployment: LocalDeployment) -> None:
        self._deployment = deployment
        self._sqs = boto3.client("sqs")
        self._progress = DrainProgress(deployment)  # over every drain of these outcomes
        self.per_function: dict[str, Counter[str]] = {}
        self.totals: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []  # every event read, in the order read

    @property
    def commands(self) -> int:
        """Commands that ended in an action outcome (ActionSucceeded, -Skipped, -Rejected, -Failed)."""
        return sum(n for kind, n in self.totals.items() if kind.startswith("Action"))

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Read the outcomes in the background while the pipeline runs, and the rest once it has drained,
        showing the drain's progress: the queue stays shallow, and the reading overlaps the pipeline's work
        instead of following it (7,000 events read after the 1,000-joiner demo had drained took 13 s)."""
        with self._progress.shown() as progress:

            def keep_reading(stop: threading.Event) -> None:
                while not stop.wait(OUTCOMES_READ_SECONDS):
                    self.collect()
                    progress(self.commands)

            with in_background(keep_reading, name="outcomes"):
                yield
            self.collect()
            progress(self.commands)

    def collect(self) -> None:
        # moto answers a receive from the whole queue at once: no need to wait on an empty answer.
        queue = AuditQueue(self._sqs, self._deployment.outcomes_queue_url, wait_seconds=0)
        for event in queue.read(follow=False):
            self.events.append(event)
            function = event["detail"].get("action") or "LifecyclePlanner"
            self.per_function.setdefault(function, Counter())[event["detail-type"]] += 1
            self.totals[event["detail-type"]] += 1

    def table(self) -> Table:
        columns = ("succeeded", "skipped", "rejected", "failed", "in DLQ")
        kinds = ("Succeeded", "Skipped", "Rejected", "Failed")
        per_function = table("outcomes per function", "function", *columns, right=columns)
        for function in sorted(self.per_function):
            counts = self.per_function[function]
            if function in self._deployment.queues:
                dead_letter_urls = [self._deployment.queues[function].dead_letter_url]
            else:  # the planner's audits: its functions' DLQs
                dead_letter_urls = [f.queue.dead_letter_url for f in self._deployment.planner_functions]
            dead = sum(sum(queue_depths(self._sqs, url)) for url in dead_letter_urls)
            row = [sum(n for kind_name, n in counts.items() if kind_name.endswith(kind)) for kind in kinds]
            per_function.add_row(function, *(str(n) for n in row), str(dead))
        return per_function


def percentile(values: Sequence[float], share: float) -> float:
    """The value a `share` of `values` is at or under (nearest rank)."""
    ordered = sorted(values)
    return ordered[round(share * (len(ordered) - 1))]


def time_to_lock_out(seconds: Sequence[float], *, at_least: float | None = None) -> str:
    """p50, p99 and max of leavers' times to lock-out; a value at `at_least` is a lower bound (a leaver not
    locked out within a time limit)."""
    figures = {"p50": percentile(seconds, 0.5), "p99": percentile(seconds, 0.99), "max": max(seconds)}
    bound = {
        name: ">=" if at_least is not None and at_least <= value else "" for name, value in figures.items()
    }
    return ", ".join(f"{name} {bound[name]}{value:.1f} s" for name, value in figures.items())


def drained(
    deployment: LocalDeployment, entries: list[dict[str, Any]], drain: Drain
) -> tuple[Outcomes, FunctionStats]:
    """The events published, then the pipeline drained (`drain`), with the outcomes read as they come."""
    outcomes = Outcomes(deployment)
    publish(entries)
    with outcomes.collecting():
        stats = drain()
    return outcomes, stats


def run_roster(
    deployment: LocalDeployment, roster: Roster, drain: Drain | None = None
) -> tuple[Outcomes, FunctionStats, float]:
    """The roster's HR events through the pipeline (`drain`, by default `pipeline_drain`). Leavers held by
    the safety threshold are released, as an operator would with `cognito-lifecycle release`, and the
    pipeline drained again."""
    drain = drain or pipeline_drain(deployment)
    started = time.perf_counter()
    entries = hr_entries(roster.events, deployment.event_bus_name, HR_SOURCE)
    outcomes, stats = drained(deployment, entries, drain)
    if held := outcomes.totals["PlanHeld"]:
        console.print(
            f"{held} leavers held by the safety threshold (leaverThreshold in cdk.json); releasing them as "
            "`cognito-lifecycle release` does"
        )
        release = release_entry(
            deployment.event_bus_name, source=OPERATOR_SOURCE, operator="demo", reason="generated roster"
        )
        publish([release])
        with outcomes.collecting():
            stats += drain()
    return outcomes, stats, time.perf_counter() - started


def cmd_demo(args: argparse.Namespace) -> int:
    roster = generate_roster(args.joiners, groups=SANDBOX_GROUPS, seed=args.seed)
    console.print(
        f"roster: {args.joiners} joiners, then movers and leavers among them, and {roster.malformed} "
        f"malformed events ({len(roster.events)} HR events)"
    )
    # The drift scenario reconciles with the reconciler, whose module loads the Lambda runtime.
    from operator_cli.drift import drift_and_reconcile

    with local_deployment() as deployment:
        outcomes, stats, elapsed = run_roster(deployment, roster)
        console.print(outcomes.table())
        cognito = boto3.client("cognito-idp")
        problems = verify_pool(cognito, deployment.user_pool_id, roster.expected)
        console.print(
            f"{len(roster.events)} HR events -> {outcomes.commands} commands in {elapsed:.1f} s "
            f"({outcomes.commands / elapsed:.0f} commands/s, {stats.records_received} records delivered)"
        )
        print_lock_out(outcomes)
        if not _report(problems, "the roster", len(roster.expected)):
            return EXIT_FAILED
        reconciled = drift_and_reconcile(deployment, roster, pipeline_drain(deployment))
        problems = verify_pool(cognito, deployment.user_pool_id, reconciled)
    return EXIT_OK if _report(problems, "the HR snapshot, reconciled", len(reconciled)) else EXIT_FAILED


def _report(problems: list[str], against: str, people: int) -> bool:
    """Print the end-state check; whether it passed."""
    if problems:
        console.print(f"[red]the pool differs from {against} in {len(problems)} ways:[/red]")
        for problem in problems[:20]:
            console.print(f"  {problem}")
        return False
    console.print(f"[green]the pool matches {against}: {people} people checked[/green]")
    return True


def cmd_run(args: argparse.Namespace) -> int:
    records = read_hr_events(Path(args.file))
    with local_deployment() as deployment:
        started = time.perf_counter()
        entries = hr_entries(records, deployment.event_bus_name, HR_SOURCE)
        outcomes, stats = drained(deployment, entries, pipeline_drain(deployment))
        elapsed = time.perf_counter() - started
        console.print(outcomes.table())
    console.print(f"{len(records)} HR events drained in {elapsed:.1f} s ({stats.records_received} records)")
    print_lock_out(outcomes)
    return EXIT_OK


def print_lock_out(outcomes: Outcomes) -> None:
    """The leavers' times to lock-out, as the planner's LeaverLockedOut audits give them."""
    # By plan: the planner may publish a transition's effects twice (an outbox published again).
    locked_out = {
        event["detail"]["planId"]: max(event["detail"]["lockOutSeconds"].values())
        for event in outcomes.events
        if event["detail-type"] == LOCKED_OUT
    }
    if locked_out:
        console.print(
            f"time to lock-out, {len(locked_out)} leavers (HR event to disabled and signed out, EventBridge's"
            f" whole seconds): {time_to_lock_out(list(locked_out.values()))}"
        )


def copyable(command: str) -> None:
    """A command to copy into a shell: printed whole on one line whatever the terminal's width (a terminal
    folds a long line for the eye only; a copy of it is still one line), and without markup."""
    console.print(command, soft_wrap=True, markup=False, highlight=False)


def client_commands(deployment: LocalDeployment) -> list[str]:
    """What an operator types in another shell to drive the served local AWS with the AWS CLI."""
    variables = {"AWS_ENDPOINT_URL": deployment.endpoint_url, "AWS_DEFAULT_REGION": deployment.region}
    variables |= {name: FAKE_CREDENTIALS[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    entry = {
        "EventBusName": deployment.event_bus_name,
        "Source": HR_SOURCE,
        "DetailType": "EmployeeOnboarded",
        "Detail": json.dumps({"employeeId": "E1", "email": "e1@example.com", "sendInvitation": False}),
    }
    return [
        "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items()),
        f"aws events put-events --entries {shlex.quote(json.dumps([entry]))}",
        f"{shlex.quote(cli_path())} outcomes --follow",
    ]


def cli_path() -> str:
    """This CLI as a shell runs it: its script beside the interpreter (installed), else the module."""
    script = Path(sys.executable).with_name("cognito-lifecycle")
    return str(script) if script.is_file() else f"{sys.executable} -m operator_cli"


def subscribed_queue(deployment: LocalDeployment, name: str) -> str:
    """A queue of its own subscribed to the audit stream, as an operator subscribes one in AWS: a rule on the
    outcome source with the queue as its target."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = deployment.event_bus_name
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [OUTCOME_SOURCE]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


@contextmanager
def audit_log(deployment: LocalDeployment, *, quiet: bool) -> Iterator[None]:
    """One line per audit event while serving (with `quiet`, the plans' and what needs attention), read
    from a queue of serve's own: the outcomes queue stays whole for `cognito-lifecycle outcomes`."""
    queue_url = subscribed_queue(deployment, f"{deployment.event_bus_name}-serve-log")
    stream = AuditQueue(boto3.client("sqs"), queue_url)

    def log(stopping: threading.Event) -> None:
        for event in stream.read(follow=True, stopping=stopping):
            if not quiet or is_plan_event(event) or event["detail-type"] in ATTENTION:
                console.print(audit_line(event), markup=False, highlight=False, soft_wrap=True)

    with in_background(log, name="audit-log"):
        yield


@contextmanager
def in_background(work: Callable[[threading.Event], None], *, name: str) -> Iterator[None]:
    """`work` in a thread of its own while the block runs; it is told to stop at the end, and waited for."""
    stopping = threading.Event()
    thread = threading.Thread(target=work, args=(stopping,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        thread.join()


@contextmanager
def announced_stop(what: str, context: AbstractContextManager[T]) -> Iterator[T]:
    """The context, with one line once it has stopped (however it stopped, once it had started)."""
    started = False
    try:
        with context as value:
            started = True
            yield value
    finally:
        if started:
            console.print(f"stopped {what}")


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        with (
            announced_stop("the local AWS", local_deployment(args.port, log_level="WARNING")) as deployment,
            announced_stop("the pipeline", LocalPipeline.for_deployment(deployment)),
            announced_stop("the audit log", audit_log(deployment, quiet=args.quiet)),
        ):
            console.print(f"local AWS at {deployment.endpoint_url} (user pool {deployment.user_pool_id})")
            console.print(
                f"  the stack's synthesized template, with local edits: {'; '.join(deployment.edits)}",
                markup=False,
            )
            console.print("  from another shell:")
            for command in client_commands(deployment):
                copyable(command)
            console.print(SERVING)
            console.file.flush()  # a supervisor reading the pipe waits for this line
            threading.Event().wait()
    except KeyboardInterrupt:
        pass  # Ctrl-C: each part has said it stopped
    return EXIT_OK
