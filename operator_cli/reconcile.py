"""`cognito-lifecycle reconcile FILE`: an HR snapshot against the pool, as a dry run (the summary table, and
the per-person drift as CSV on request), applied (`--apply`), or a held run released (`--release RUN_ID`).
FILE is a path (reports beside it) or `s3://BUCKET/KEY`, a snapshot in the stack's bucket (reports in that
bucket, where the reconciler function keeps them: `--release` releases a run the function held).

Imported only when the command runs: the reconciler publishes through the workers' batching, whose module
loads the Lambda runtime.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from cognito_workers.errors import error_code
from cognito_workers.reconcile.diff import PersonDrift
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.records import BucketRecords, DirectoryRecords, RunNotFound, RunRecords
from cognito_workers.reconcile.run import DRIFT_KINDS, Reconciler, ReconciliationOutcome, RunNotHeld
from cognito_workers.reconcile.snapshot import SnapshotRefused
from operator_cli.app import EXIT_FAILED, EXIT_OK, Aws, UsageProblem, console, print_json, table

DRIFT_CSV_COLUMNS = ("kind", "employeeId", "username", "line", "changes")
_S3 = "s3://"


def cmd_reconcile(args: argparse.Namespace) -> int:
    aws = Aws(args.endpoint_url, args.prefix)
    snapshot = _bucket_snapshot(aws, args.file) if args.file.startswith(_S3) else _file_snapshot(args.file)
    try:
        policy = ReconciliationPolicy.model_validate_json(args.policy)
    except ValueError as error:
        raise UsageProblem(f"--policy: {error}") from None
    reconciler = Reconciler(
        cognito=aws.cognito,
        events=aws.events,
        user_pool_id=args.user_pool_id or _sandbox_pool_id(aws),
        event_bus_name=aws.names.bus,
        outcome_event_source=args.outcome_source,
        policy=policy,
        records=snapshot.records,
    )
    if args.release:
        try:
            outcome = reconciler.release(args.release)
        except (RunNotFound, RunNotHeld) as problem:
            raise UsageProblem(str(problem)) from None
        print_outcome(outcome, args.output)
        return EXIT_OK
    try:
        with snapshot.lines() as lines:
            run = reconciler.reconcile(snapshot.name, lines, apply=args.apply)
    except SnapshotRefused as refused:
        raise UsageProblem(f"{args.file}: {refused}; nothing was applied") from None
    if args.drift_csv:
        _write_drift_csv(Path(args.drift_csv), run.drifts)
    print_outcome(run.outcome, args.output)
    return EXIT_FAILED if run.outcome.status == "Held" else EXIT_OK


@dataclass(frozen=True)
class _Snapshot:
    """What a snapshot is called, where its runs are kept, and its text when a run reads it."""

    name: str
    records: RunRecords
    lines: Callable[[], contextlib.AbstractContextManager[Iterable[str]]]


def _file_snapshot(file: str) -> _Snapshot:
    path = Path(file)
    if not path.is_file():
        raise UsageProblem(f"{path}: no such file")
    return _Snapshot(
        path.name, DirectoryRecords(path.parent), lambda: path.open(encoding="utf-8", newline="")
    )


def _bucket_snapshot(aws: Aws, uri: str) -> _Snapshot:
    bucket, _, key = uri.removeprefix(_S3).partition("/")
    if not bucket or not key:
        raise UsageProblem(f"{uri}: an S3 snapshot is s3://BUCKET/KEY")
    return _Snapshot(key, BucketRecords(aws.s3, bucket), lambda: _object_lines(aws, bucket, key))


@contextlib.contextmanager
def _object_lines(aws: Aws, bucket: str, key: str) -> Iterator[Iterable[str]]:
    """The object's text, streamed."""
    try:
        body = aws.s3.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as error:
        raise UsageProblem(f"s3://{bucket}/{key}: cannot be read ({error_code(error)})") from None
    with contextlib.closing(body):
        yield codecs.getreader("utf-8")(body)


def _sandbox_pool_id(aws: Aws) -> str:
    """The deployment's sandbox pool (`<prefix>-sandbox`), when no pool id is given."""
    name = f"{aws.names.prefix}-sandbox"
    for page in aws.cognito.get_paginator("list_user_pools").paginate(PaginationConfig={"PageSize": 60}):
        for pool in page["UserPools"]:
            if pool.get("Name") == name:
                return str(pool["Id"])
    raise UsageProblem(f"no user pool named {name}: give --user-pool-id")


def _write_drift_csv(path: Path, drifts: list[PersonDrift]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(DRIFT_CSV_COLUMNS)
        for drift in drifts:
            writer.writerow(
                [
                    drift.kind,
                    drift.employee_id or "",
                    drift.username or "",
                    drift.line or "",
                    "; ".join(drift.changes),
                ]
            )


def print_outcome(outcome: ReconciliationOutcome, output: str) -> None:
    if output == "json":
        print_json(outcome.model_dump(by_alias=True))
        return
    summary = table(f"drift in {outcome.snapshot}", "drift", "people", right=("people",))
    for kind in DRIFT_KINDS:
        summary.add_row(kind, str(outcome.counts[kind]))
    console.print(summary)
    calls = ", ".join(f"{operation} {count}" for operation, count in outcome.cognito_calls.items())
    console.print(
        f"run {outcome.run_id}: {outcome.rows} rows, {outcome.managed_users} managed users; "
        f"Cognito calls: {calls}; report: {outcome.report}"
    )
    for reason in outcome.held_because:
        console.print(f"{'held' if outcome.status == 'Held' else 'would be held'}: {reason}")
    if outcome.status == "DryRun":
        console.print("dry run: nothing was published (--apply publishes the repairs)")
    elif outcome.status == "Held":
        console.print(f"held: nothing was published; after review, --release {outcome.run_id} publishes them")
    else:
        released = " (released)" if outcome.released else ""
        console.print(f"published {outcome.published} repairs for the planner{released}")
