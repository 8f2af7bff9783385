"""`cognito-lifecycle reconcile` against the local endpoint, on the reconciliation tests' own deployment: the
dry run's table and drift CSV, --apply, a held run and its release, a refused snapshot."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from local_aws.deployment import LocalDeployment
from local_aws.server import LocalAws
from operator_cli import app
from operator_cli.app import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from tests.cli.queues import take_all
from tests.integration.test_reconcile import seed

SNAPSHOT = "employeeId,email,givenName,groups\nE1,e1@example.com,Ada,staff\nE2,e2@example.com,Bob,staff\n"


@pytest.fixture
def reconcile(
    local_aws: LocalAws,
    reconcile_deployment: LocalDeployment,
    empty_reconcile_pool: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """Runs `reconcile` against the deployment (its pool found by name) and returns (code, out, err)."""
    monkeypatch.setattr(app.console, "width", 200)
    monkeypatch.setattr(app.errors, "width", 200)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["reconcile", *args, "--endpoint-url", local_aws.endpoint_url, "--prefix", "rec-tests"])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_a_dry_run_prints_the_summary_writes_the_drift_csv_and_publishes_nothing(
    reconcile: Any,
    cognito: Any,
    empty_reconcile_pool: str,
    reconcile_deployment: LocalDeployment,
    sqs: Any,
    tmp_path: Path,
) -> None:
    seed(cognito, empty_reconcile_pool, "e1", "E1", "staff", given_name="Old")
    snapshot = tmp_path / "roster.csv"
    snapshot.write_text(SNAPSHOT)

    code, out, _ = reconcile(str(snapshot), "--drift-csv", str(tmp_path / "drift.csv"))

    assert code == EXIT_OK
    assert "│ joiner    │      1 │" in out
    assert "│ mover     │      1 │" in out
    assert "Cognito calls: ListUsers 1, ListUsersInGroup 5" in out
    assert "dry run: nothing was published" in out
    with (tmp_path / "drift.csv").open() as drift:
        rows = list(csv.DictReader(drift))
    assert [(r["kind"], r["employeeId"], r["line"], r["changes"]) for r in rows] == [
        ("mover", "E1", "2", "attribute given_name"),
        ("joiner", "E2", "3", ""),
    ]
    assert take_all(sqs, reconcile_deployment.planner_queue.url) == []


def test_apply_publishes_the_repairs_for_the_planner(
    reconcile: Any, reconcile_deployment: LocalDeployment, sqs: Any, tmp_path: Path
) -> None:
    snapshot = tmp_path / "roster.jsonl"
    snapshot.write_text(json.dumps({"employeeId": "E1", "email": "e1@example.com"}) + "\n")

    code, out, _ = reconcile(str(snapshot), "--apply", "--output", "json")

    assert code == EXIT_OK
    outcome = json.loads(out)
    assert (outcome["status"], outcome["published"], outcome["counts"]["joiner"]) == ("Completed", 1, 1)
    (event,) = take_all(sqs, reconcile_deployment.planner_queue.url)
    assert (event["source"], event["detail-type"]) == ("cognito.lifecycle.reconciler", "EmployeeOnboarded")
    assert event["detail"]["eventId"].startswith("reconcile-")


def test_a_held_run_exits_1_naming_its_release_and_release_publishes_it(
    reconcile: Any,
    cognito: Any,
    empty_reconcile_pool: str,
    reconcile_deployment: LocalDeployment,
    sqs: Any,
    tmp_path: Path,
) -> None:
    for number in range(3):
        seed(cognito, empty_reconcile_pool, f"e{number}", f"E{number}")
    snapshot = tmp_path / "roster.csv"
    snapshot.write_text("employeeId,email\nE0,e0@example.com\n")

    code, out, _ = reconcile(str(snapshot), "--apply", "--output", "json")
    held = json.loads(out)

    assert code == EXIT_FAILED
    assert held["heldBecause"] == ["2 of 3 managed users would be deprovisioned, over 5%"]
    planner_queues = [function.queue.url for function in reconcile_deployment.planner_functions]
    assert [event for url in planner_queues for event in take_all(sqs, url)] == []
    code, out, _ = reconcile(str(snapshot), "--release", held["runId"])
    assert code == EXIT_OK
    assert "published 2 repairs for the planner (released)" in out
    leavers = [event for url in planner_queues for event in take_all(sqs, url)]  # the lock-out lane's
    assert sorted(event["detail"]["username"] for event in leavers) == ["e1", "e2"]


def test_a_refused_snapshot_or_an_unknown_run_is_a_usage_error(reconcile: Any, tmp_path: Path) -> None:
    snapshot = tmp_path / "roster.csv"
    snapshot.write_text("employeeId,name\nE1,Ada\n")

    code, _, err = reconcile(str(snapshot), "--apply")
    unknown, _, unknown_err = reconcile(str(snapshot), "--release", "run-nothing")

    assert code == EXIT_USAGE
    assert "line 1: the header lacks the required column(s) email; nothing was applied" in err
    assert unknown == EXIT_USAGE
    assert "no summary of run run-nothing" in unknown_err
