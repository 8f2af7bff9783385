"""`cognito-lifecycle reconcile FILE`: an HR snapshot against the pool, as a dry run (the summary table, and
the per-person drift as CSV on request), applied (`--apply`), or a held run released (`--release RUN_ID`).

Imported only when the command runs: the reconciler publishes through the workers' batching, whose module
loads the Lambda runtime.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from cognito_workers.reconcile.diff import PersonDrift
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.records import DirectoryRecords, RunNotFound
from cognito_workers.reconcile.run import DRIFT_KINDS, Reconciler, ReconciliationOutcome, RunNotHeld
from cognito_workers.reconcile.snapshot import SnapshotRefused
from operator_cli.app import EXIT_FAILED, EXIT_OK, Aws, UsageProblem, console, print_json, table

DRIFT_CSV_COLUMNS = ("kind", "employeeId", "username", "line", "changes")


def cmd_reconcile(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageProblem(f"{path}: no such file")
    aws = Aws(args.endpoint_url, args.prefix)
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
        records=DirectoryRecords(path.parent),
    )
    if args.release:
        try:
            outcome = reconciler.release(args.release)
        except (RunNotFound, RunNotHeld) as problem:
            raise UsageProblem(str(problem)) from None
        print_outcome(outcome, args.output)
        return EXIT_OK
    try:
        with path.open(encoding="utf-8", newline="") as lines:
            run = reconciler.reconcile(path.name, lines, apply=args.apply)
    except SnapshotRefused as refused:
        raise UsageProblem(f"{path}: {refused}; nothing was applied") from None
    if args.drift_csv:
        _write_drift_csv(Path(args.drift_csv), run.drifts)
    print_outcome(run.outcome, args.output)
    return EXIT_FAILED if run.outcome.status == "Held" else EXIT_OK


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
