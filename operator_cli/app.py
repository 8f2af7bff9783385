"""`cognito-lifecycle`: the operator CLI. Every command that talks to AWS works against a real account (the
usual AWS credentials and region) or a local endpoint (`--endpoint-url`, or AWS_ENDPOINT_URL).

Exit codes: 0 done, 1 the work failed (a check did not hold, AWS refused), 2 bad input or usage.

Importing it loads neither the Lambda runtime (Powertools, X-Ray) nor the local AWS: a command imports what
it needs when it runs, so that every command starts fast and the account commands work installed as a
package, without the source checkout (see operator_cli/defaults.py).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cognito_workers.catalog import PLANNER, ResourceNames
from cognito_workers.lifecycle.events import parse_lifecycle_event
from cognito_workers.lifecycle.plans import plan_for
from operator_cli import defaults
from operator_cli.audit import AuditQueue, audit_line
from operator_cli.hr_files import HrEventRecord, HrFileError, read_hr_events

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
LOCAL_REGION = "us-east-1"
# The local deployment's queue collecting the audit stream is named after the stack (local_aws/deployment.py).
LOCAL_OUTCOMES_QUEUE = "{stack_name}-outcomes"

console = Console()
errors = Console(stderr=True)


class UsageProblem(Exception):
    """Bad input from the operator: exit code 2."""


class EventsRefused(Exception):
    """EventBridge refused events the command had to put: exit code 1."""


class LocalAwsUnavailable(Exception):
    """The local AWS of `demo`, `run` or `serve` could not be started or provisioned: exit code 1."""


class Aws:
    """Clients and resource names for one deployment."""

    def __init__(self, endpoint_url: str | None, prefix: str) -> None:
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.names = ResourceNames(prefix)
        session = self._local_session() if self.is_local else boto3.session.Session()
        self.sqs = session.client("sqs", endpoint_url=self.endpoint_url)
        self.events = session.client("events", endpoint_url=self.endpoint_url)
        self.cognito = session.client("cognito-idp", endpoint_url=self.endpoint_url)
        self.s3 = session.client("s3", endpoint_url=self.endpoint_url)

    @staticmethod
    def _local_session() -> boto3.session.Session:
        """A local endpoint takes any credentials; the usual ones are used when set."""
        session = boto3.session.Session()
        if session.get_credentials() is not None and session.region_name:
            return session
        return boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=session.region_name or LOCAL_REGION,
        )

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None

    def deployed_functions(self) -> list[str]:
        """The queue-fed functions this deployment has (the lock-out lane is optional: lockOutLane)."""
        listed = self.sqs.list_queues(QueueNamePrefix=self.names.prefix).get("QueueUrls", [])
        queues = {url.rsplit("/", 1)[-1] for url in listed}
        return [function for function in self.names.functions if self.names.queue(function) in queues]

    def queue_url(self, name: str) -> str:
        try:
            return str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])
        except ClientError as error:
            raise UsageProblem(f"queue {name}: not found ({error.response['Error']['Code']})") from None

    def queue_arn(self, url: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        return str(attributes["QueueArn"])

    def put_events(self, entries: list[dict[str, Any]], progress_label: str | None = None) -> int:
        """Put events as many per call as PutEvents takes; return how many EventBridge refused."""
        with Progress(console=console, transient=True, disable=progress_label is None) as progress:
            task = progress.add_task(progress_label or "", total=len(entries))
            return put_events_in_batches(self.events, entries, lambda put: progress.advance(task, put))


def put_events_in_batches(
    events: EventBridgeClient,
    entries: list[dict[str, Any]],
    on_batch: Callable[[int], object] | None = None,
) -> int:
    """Put events as many per call as PutEvents takes, telling `on_batch` how many each call put; return how
    many EventBridge refused."""
    # The workers' own batching loop; its module loads the Lambda runtime, so only when events are put.
    from cognito_workers.consumer import put_in_batches

    refused = 0
    for answer in put_in_batches(events, entries):  # type: ignore[arg-type]  # the CLI's entries are plain dicts
        refused += answer.get("FailedEntryCount", 0)
        if on_batch:
            on_batch(len(answer["Entries"]))
    return refused


def hr_entries(
    records: Sequence[HrEventRecord], bus: str, source: str = defaults.HR_SOURCE.stack_value
) -> list[dict[str, Any]]:
    return [
        {"EventBusName": bus, "Source": source, "DetailType": r.detail_type, "Detail": json.dumps(r.detail)}
        for r in records
    ]


def print_json(value: Any) -> None:
    """Machine-readable output: one JSON document per line, never wrapped or coloured."""
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def table(title: str, *columns: str, right: Sequence[str] = ()) -> Table:
    """A table whose cells fold onto more lines when the terminal is narrow, never cut."""
    made = Table(title=title)
    for column in columns:
        made.add_column(column, justify="right" if column in right else "left", overflow="fold")
    return made


def cmd_publish(args: argparse.Namespace) -> int:
    records = read_hr_events(Path(args.file))
    aws = Aws(args.endpoint_url, args.prefix)
    failed = aws.put_events(hr_entries(records, aws.names.bus, args.source), progress_label="publishing")
    console.print(f"published {len(records) - failed} of {len(records)} HR events to {aws.names.bus}")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    if not args.dry_run:
        raise UsageProblem("plan only computes (--dry-run); `publish` applies")
    records = read_hr_events(Path(args.file))
    now = datetime.datetime.now(datetime.UTC)
    plans = [
        plan_for(parse_lifecycle_event(r.detail_type, r.detail), plan_id=f"dry-run-{number}", event_time=now)
        for number, r in enumerate(records, start=1)
    ]
    if args.output == "json":
        print_json([plan.model_dump(mode="json") for plan in plans])
        return EXIT_OK
    for plan in plans:
        stages = table(f"{plan.event_type} {plan.username} (employee {plan.employee_id})", "stage", "does")
        for index, stage in enumerate(plan.stages):
            stages.add_row(str(index), stage.describe())
        console.print(stages)
    console.print(f"{len(records)} plans computed; nothing was applied")
    return EXIT_OK


COUNTS = ("waiting", "in flight", "in DLQ")


def cmd_status(args: argparse.Namespace) -> int:
    aws = Aws(args.endpoint_url, args.prefix)
    rows = {}
    for function in aws.deployed_functions():
        waiting, in_flight = _depths(aws, aws.names.queue(function))
        dead = sum(_depths(aws, aws.names.dead_letter_queue(function)))
        rows[function] = {"waiting": waiting, "inFlight": in_flight, "inDlq": dead}
    if args.output == "json":
        print_json({"prefix": aws.names.prefix, "functions": rows})
        return EXIT_OK
    depths = table(f"queues of {aws.names.prefix}", "function", *COUNTS, right=COUNTS)
    for function, counts in rows.items():
        depths.add_row(function, *(str(value) for value in counts.values()))
    totals = [sum(counts[key] for counts in rows.values()) for key in ("waiting", "inFlight", "inDlq")]
    depths.add_row("total", *(str(value) for value in totals), style="bold")
    console.print(depths)
    return EXIT_OK


def _depths(aws: Aws, name: str) -> tuple[int, int]:
    return queue_depths(aws.sqs, aws.queue_url(name))


def queue_depths(sqs: SQSClient, url: str) -> tuple[int, int]:
    """Messages waiting, and messages in flight."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _check_function(aws: Aws, function: str) -> None:
    if function not in aws.names.functions:
        raise UsageProblem(
            f"{function!r} is not a function of this deployment (one of: {', '.join(aws.names.functions)})"
        )


def _peek(aws: Aws, url: str, limit: int) -> list[dict[str, Any]]:
    """Read up to `limit` DLQ messages without hiding them from others (visibility timeout 0)."""
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(limit):
        messages = aws.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        new = [m for m in messages if m["MessageId"] not in seen]
        if not new:
            break
        seen.update({m["MessageId"]: dict(m) for m in new})
        if len(seen) >= limit:
            break
    return list(seen.values())[:limit]


def _attribute(message: dict[str, Any], name: str) -> str:
    return str(message.get("MessageAttributes", {}).get(name, {}).get("StringValue", ""))


def _dead_letter(message: dict[str, Any]) -> dict[str, Any]:
    """A DLQ message as the CLI shows it: its attributes' values and its body (parsed when it is JSON)."""
    return {
        "messageId": message["MessageId"],
        "attributes": {
            name: value.get("StringValue") for name, value in message.get("MessageAttributes", {}).items()
        },
        "body": _json_or_text(message["Body"]),
    }


def cmd_dlq_list(args: argparse.Namespace) -> int:
    aws = Aws(args.endpoint_url, args.prefix)
    _check_function(aws, args.function)
    messages = _peek(aws, aws.queue_url(aws.names.dead_letter_queue(args.function)), args.max)
    if args.output == "json":
        print_json([_dead_letter(message) for message in messages])
        return EXIT_OK
    letters = table(f"DLQ of {args.function}", "message id", "outcome", "error code", "reason")
    for message in messages:
        letters.add_row(
            message["MessageId"],
            _attribute(message, "Outcome") or "(redriven by SQS)",
            _attribute(message, "ErrorCode"),
            _attribute(message, "ErrorMessage"),
        )
    console.print(letters)
    console.print(f"{len(messages)} shown")
    return EXIT_OK


def cmd_dlq_show(args: argparse.Namespace) -> int:
    aws = Aws(args.endpoint_url, args.prefix)
    _check_function(aws, args.function)
    messages = _peek(aws, aws.queue_url(aws.names.dead_letter_queue(args.function)), 1000)
    for message in messages:
        if message["MessageId"] == args.message_id:
            shown = _dead_letter(message)
            if args.output == "json":
                print_json(shown)
            else:
                console.print_json(json.dumps(shown))
            return EXIT_OK
    raise UsageProblem(f"message {args.message_id} is not in the DLQ of {args.function}")


def _json_or_text(body: str) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return body


def cmd_dlq_redrive(args: argparse.Namespace) -> int:
    """SQS's own redrive (StartMessageMoveTask), in AWS and locally alike; it runs on after this returns."""
    aws = Aws(args.endpoint_url, args.prefix)
    _check_function(aws, args.function)
    source_arn = aws.queue_arn(aws.queue_url(aws.names.dead_letter_queue(args.function)))
    destination_arn = aws.queue_arn(aws.queue_url(aws.names.queue(args.function)))
    handle = aws.sqs.start_message_move_task(SourceArn=source_arn, DestinationArn=destination_arn)[
        "TaskHandle"
    ]
    (task,) = aws.sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1)["Results"]
    console.print(
        f"StartMessageMoveTask {handle}: {task['Status']}, {task.get('ApproximateNumberOfMessagesMoved', 0)} "
        f"messages moved from {aws.names.dead_letter_queue(args.function)} back to its queue"
    )
    return EXIT_OK


def cmd_outcomes(args: argparse.Namespace) -> int:
    aws = Aws(args.endpoint_url, args.prefix)
    if args.queue_url:
        url = args.queue_url
    elif aws.is_local:
        url = aws.queue_url(LOCAL_OUTCOMES_QUEUE.format(stack_name=args.stack_name))
    else:
        raise UsageProblem(
            "in AWS the stack keeps no queue of the audit stream: subscribe one to the bus with a rule on "
            "the outcome source (the README's operator CLI section shows how) and pass its --queue-url"
        )
    stream = AuditQueue(aws.sqs, url, args.correlation_id)
    try:
        for event in stream.read(follow=args.follow):
            if args.output == "json":
                print_json(event)
            else:
                console.print(audit_line(event), markup=False, highlight=False, soft_wrap=True)
    except KeyboardInterrupt:
        pass  # --follow ends with Ctrl-C
    finally:
        stream.release()
    return EXIT_OK


def release_entry(bus: str, *, source: str, operator: str, reason: str) -> dict[str, Any]:
    """The PutEvents entry that releases the planner's deprovisioning hold."""
    return {
        "EventBusName": bus,
        "Source": source,
        "DetailType": PLANNER.release_detail_type,
        "Detail": json.dumps({"releasedBy": operator, "reason": reason}),
    }


def cmd_release(args: argparse.Namespace) -> int:
    aws = Aws(args.endpoint_url, args.prefix)
    entry = release_entry(aws.names.bus, source=args.source, operator=args.operator, reason=args.reason)
    if aws.put_events([entry]):
        errors.print("EventBridge refused the release event")
        return EXIT_FAILED
    console.print("released: the planner resumes the held deprovisioning")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    # The contracts' models include the planner's, whose module loads the Lambda runtime.
    from operator_cli.schemas import contract_models, contract_schema

    if args.name is None:
        for name in contract_models():
            console.print(name)
        return EXIT_OK
    if args.name not in contract_models():
        raise UsageProblem(f"no contract named {args.name!r}; `schema` lists them")
    print_json(contract_schema(args.name))
    return EXIT_OK


def _local_command(name: str) -> Callable[[argparse.Namespace], int]:
    """A command of operator_cli.local, imported only when run: it needs the local AWS (moto) and the stack's
    source (app.py and cdk.json, to synthesize the template the local AWS is provisioned from)."""

    def run(args: argparse.Namespace) -> int:
        from local_aws.context import CDK_JSON

        if not CDK_JSON.is_file():
            raise UsageProblem(
                f"{args.command} runs a local AWS provisioned from the stack's source, which an installed "
                f"package does not hold ({CDK_JSON} is missing): run it from a source checkout "
                "(`make setup`, then .venv/bin/cognito-lifecycle)"
            )
        command: Callable[[argparse.Namespace], int] = getattr(
            importlib.import_module("operator_cli.local"), name
        )
        return command(args)

    return run


def cmd_reconcile(args: argparse.Namespace) -> int:
    # The reconciler publishes through the workers' batching, whose module loads the Lambda runtime.
    from operator_cli.reconcile import cmd_reconcile as reconcile

    return reconcile(args)


def _aws_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--endpoint-url", help="a local endpoint (default: $AWS_ENDPOINT_URL, else AWS)")
    prefix_help = defaults.PREFIX.help("the deployment's resource prefix")
    sub.add_argument("--prefix", default=defaults.PREFIX.value, help=prefix_help)


def _output_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="text for people, or json: one JSON document per line, never wrapped",
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cognito-lifecycle", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str, aws: bool = True
    ) -> Any:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        if aws:
            _aws_options(sub)
        return sub

    demo = command(
        "demo", _local_command("cmd_demo"), "run the HR demo on a local AWS and verify the pool", aws=False
    )
    demo.add_argument("--joiners", type=int, default=1000, help="how many joiners the roster has")
    demo.add_argument("--seed", type=int, default=7, help="the roster's random seed")

    serve = command("serve", _local_command("cmd_serve"), "keep a local AWS with the pipeline up", aws=False)
    serve.add_argument("--port", type=int, default=4566)
    serve.add_argument(
        "--quiet", action="store_true", help="log the plans and what needs attention, not every outcome"
    )

    run = command(
        "run", _local_command("cmd_run"), "publish a file on a fresh local AWS, drain, summarize", aws=False
    )
    run.add_argument("file", help="HR events: .json or .csv")

    publish = command("publish", cmd_publish, "publish HR events from a JSON or CSV file")
    publish.add_argument("file", help="HR events: .json or .csv")
    publish.add_argument(
        "--source", default=defaults.HR_SOURCE.value, help=defaults.HR_SOURCE.help("the events' source")
    )

    _output_option(command("status", cmd_status, "queue depths, in flight and DLQ counts per function"))

    outcomes = command(
        "outcomes",
        cmd_outcomes,
        "the audit stream: every outcome and plan event, read (and removed) from a queue subscribed to it",
    )
    outcomes.add_argument("--follow", action="store_true", help="keep reading until Ctrl-C")
    outcomes.add_argument(
        "--correlation-id",
        help="only this command's or plan's events (a plan's id is its HR event's id); others stay queued",
    )
    outcomes.add_argument(
        "--queue-url", help="the queue subscribed to the outcome source (default: the local AWS's own)"
    )
    outcomes.add_argument(
        "--stack-name",
        default=defaults.STACK_NAME.value,
        help=defaults.STACK_NAME.help("the local deployment's stack, which names its outcomes queue"),
    )
    _output_option(outcomes)

    dlq = command("dlq", lambda _: EXIT_USAGE, "inspect and redrive dead-letter queues", aws=False)
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    for name, handler, help_text in (
        ("list", cmd_dlq_list, "list a function's dead letters with their reasons"),
        ("show", cmd_dlq_show, "show one dead letter"),
        ("redrive", cmd_dlq_redrive, "move a function's dead letters back to its queue"),
    ):
        sub = dlq_commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        sub.add_argument("function", help="an action (e.g. AdminCreateUser) or LifecyclePlanner")
        _aws_options(sub)
        if name == "list":
            sub.add_argument("--max", type=int, default=50)
        if name == "show":
            sub.add_argument("message_id")
        if name != "redrive":
            _output_option(sub)

    plan = command("plan", cmd_plan, "compute the plans of HR events without applying them", aws=False)
    plan.add_argument("file", help="HR events: .json or .csv")
    plan.add_argument("--dry-run", action="store_true", help="required: plans are only ever computed here")
    _output_option(plan)

    release = command("release", cmd_release, "release the deprovisioning hold")
    release.add_argument("--operator", default=os.environ.get("USER", "operator"))
    release.add_argument("--reason", default="")
    release.add_argument(
        "--source",
        default=defaults.OPERATOR_SOURCE.value,
        help=defaults.OPERATOR_SOURCE.help("the source the planner's rule takes a release from"),
    )

    reconcile = command(
        "reconcile", cmd_reconcile, "diff an HR snapshot against the pool; --apply repairs the drift"
    )
    reconcile.add_argument(
        "file",
        help="the HR snapshot: .csv or .jsonl, a path or s3://BUCKET/KEY (the stack's snapshot bucket);"
        " reports go to reports/ beside it",
    )
    reconcile.add_argument("--apply", action="store_true", help="publish the repairs (default: a dry run)")
    reconcile.add_argument("--release", metavar="RUN_ID", help="publish a held run's repairs, after review")
    reconcile.add_argument("--drift-csv", metavar="PATH", help="also write the per-person drift as CSV")
    reconcile.add_argument("--user-pool-id", help="the pool (default: the deployment's <prefix>-sandbox)")
    reconcile.add_argument(
        "--policy",
        default=defaults.RECONCILIATION.value,
        help=defaults.RECONCILIATION.help("what is compared and when a run holds, as JSON"),
    )
    reconcile.add_argument(
        "--outcome-source",
        default=defaults.OUTCOME_SOURCE.value,
        help=defaults.OUTCOME_SOURCE.help("the source of ReconciliationCompleted / ReconciliationHeld"),
    )
    _output_option(reconcile)

    schema = command("schema", cmd_schema, "print the JSON Schema of a contract, or list them", aws=False)
    schema.add_argument("name", nargs="?")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (UsageProblem, HrFileError) as problem:
        errors.print(f"error: {problem}")
        return EXIT_USAGE
    except (EventsRefused, LocalAwsUnavailable) as failed:
        errors.print(f"error: {failed}")
        return EXIT_FAILED
    except (ClientError, BotoCoreError) as error:
        errors.print(f"AWS error: {error}")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
