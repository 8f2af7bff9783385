"""Reconciliation over HTTP on a deployment of its own (tests/conftest.py: a reconciliation reads the whole
pool, where the other tests' users would be its strays): the pool read in pages from moto's server, the
repairs published on the bus, run by the planner and the workers, and the pool checked after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from cognito_workers.lifecycle.planner import LifecyclePlanner
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.records import DirectoryRecords
from cognito_workers.reconcile.run import Reconciler, Run
from cognito_workers.reconcile.snapshot import SnapshotRefused
from local_aws.context import cdk_context
from local_aws.deployment import OUTCOME_SOURCE, LocalDeployment
from local_aws.lambda_sqs import configured_planner
from local_aws.server import LocalAws
from tests.cli.queues import take_all
from tests.conftest import Pipeline
from tests.integration.test_lifecycle import Lifecycle

POLICY = ReconciliationPolicy.model_validate(cdk_context()["reconciliation"])
HEADER = "employeeId,email,givenName,groups\n"


@pytest.fixture
def own(reconcile_deployment: LocalDeployment) -> LocalDeployment:
    return reconcile_deployment


@pytest.fixture
def pool(empty_reconcile_pool: str) -> str:
    return empty_reconcile_pool


@pytest.fixture
def lifecycle(own: LocalDeployment, sqs: Any) -> Lifecycle:
    pipeline = Pipeline(deployment=own, sqs=sqs)
    return Lifecycle(pipeline, configured_planner(own, LifecyclePlanner()))


class Reconciliation:
    """Writes snapshots to a directory and reconciles them against the deployment's pool."""

    def __init__(self, own: LocalDeployment, directory: Path, policy: ReconciliationPolicy) -> None:
        self.directory = directory
        self.reconciler = Reconciler(
            cognito=boto3.client("cognito-idp"),
            events=boto3.client("events"),
            user_pool_id=own.user_pool_id,
            event_bus_name=own.event_bus_name,
            outcome_event_source=OUTCOME_SOURCE,
            policy=policy,
            records=DirectoryRecords(directory),
        )

    def reconciler_report(self, run: Run) -> list[dict[str, Any]]:
        return list(DirectoryRecords(self.directory).report(run.outcome.run_id))

    def run(self, text: str, *, apply: bool = True, name: str = "roster.csv") -> Run:
        path = self.directory / name
        path.write_text(text)
        with path.open() as lines:
            return self.reconciler.reconcile(name, lines, apply=apply)


@pytest.fixture
def reconciliation(own: LocalDeployment, tmp_path: Path) -> Reconciliation:
    # A pool of a handful of users: one stray is already 20% of it.
    return Reconciliation(own, tmp_path, POLICY.model_copy(update={"max_deprovision_share": 0.5}))


def seed(
    cognito: Any, pool_id: str, username: str, employee_id: str | None, *groups: str, **attributes: str
) -> None:
    """A user created directly in the pool, as a hand edit or an older system would."""
    attributes = {"email": f"{username}@example.com", "email_verified": "true", **attributes}
    if employee_id is not None:
        attributes["custom:employeeId"] = employee_id
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": name, "Value": value} for name, value in attributes.items()],
    )
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)


def state_of(cognito: Any, pool_id: str, username: str) -> tuple[bool, dict[str, str], set[str]]:
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    return user["Enabled"], attributes, {group["GroupName"] for group in groups}


def usernames(cognito: Any, pool_id: str) -> set[str]:
    pages = cognito.get_paginator("list_users").paginate(UserPoolId=pool_id)
    return {listed["Username"] for page in pages for listed in page["Users"]}


def test_every_kind_of_drift_is_repaired_through_the_planner_and_a_rerun_finds_none(
    pool: str, cognito: Any, reconciliation: Reconciliation, lifecycle: Lifecycle
) -> None:
    # Given a pool drifted from the HR snapshot in every way
    seed(cognito, pool, "e1", "E1", "staff", given_name="Old")  # an attribute edited by hand
    seed(cognito, pool, "e2", "E2", "staff", "managers", given_name="Bob")  # added to a group by hand
    seed(cognito, pool, "e3", "E3", given_name="Cy")  # a leaver whose rehire was lost
    cognito.admin_disable_user(UserPoolId=pool, Username="e3")
    seed(cognito, pool, "stray", None)  # a managed user no employee matches
    seed(cognito, pool, "e6", None, "staff", given_name="Fay")  # predates the stack: no employeeId
    seed(cognito, pool, "svc-backup", None)  # a service account: unmanaged
    snapshot = (
        HEADER
        + "E1,e1@example.com,Ada,staff\n"
        + "E2,e2@example.com,Bob,staff\n"
        + "E3,e3@example.com,Cy,engineering\n"
        + "E4,e4@example.com,Dee,staff;engineering\n"  # a joiner whose event was lost
        + "E6,e6@example.com,Fay,staff\n"
    )

    # When it is reconciled and the planner and the workers run the repairs
    run = reconciliation.run(snapshot)
    lifecycle.run()

    # Then the run published one repair per drifted person, and the pool matches the snapshot
    outcome = run.outcome
    assert outcome.status == "Completed"
    assert {kind: n for kind, n in outcome.counts.items() if n} == {
        "joiner": 1,
        "mover": 3,
        "rehire": 1,
        "leaver": 1,
        "linked": 1,
    }
    assert outcome.published == 6
    assert state_of(cognito, pool, "e1")[1]["given_name"] == "Ada"
    assert state_of(cognito, pool, "e2")[2] == {"staff"}
    assert state_of(cognito, pool, "e3")[0::2] == (True, {"engineering"})
    enabled, attributes, groups = state_of(cognito, pool, "e4")
    assert (enabled, attributes["custom:employeeId"], groups) == (True, "E4", {"staff", "engineering"})
    assert state_of(cognito, pool, "stray")[0] is False  # locked out; deleted after the grace period
    assert state_of(cognito, pool, "e6")[1]["custom:employeeId"] == "E6"  # linked, not created again
    assert state_of(cognito, pool, "svc-backup")[0] is True
    assert usernames(cognito, pool) == {"e1", "e2", "e3", "e4", "stray", "e6", "svc-backup"}
    # And the same snapshot again finds nothing to repair
    again = reconciliation.run(snapshot)
    assert again.outcome.published == 0
    assert again.outcome.counts["unchanged"] == 5


def test_reconciling_the_same_snapshot_twice_plans_each_repair_once(
    pool: str, cognito: Any, reconciliation: Reconciliation, lifecycle: Lifecycle
) -> None:
    seed(cognito, pool, "e1", "E1", "staff", given_name="Old")
    snapshot = HEADER + "E1,e1@example.com,Ada,staff\nE2,e2@example.com,Bo,staff\n"

    first = reconciliation.run(snapshot)
    second = reconciliation.run(snapshot)  # before the planner ran the first: the same drift, again
    lifecycle.run()

    assert first.outcome.run_id == second.outcome.run_id
    event_ids = [line["eventId"] for line in reconciliation.reconciler_report(first)]
    assert len(event_ids) == 2
    for plan_id in event_ids:
        assert lifecycle.audits(plan_id) == ["PlanStarted", "PlanCompleted"]
    assert state_of(cognito, pool, "e1")[1]["given_name"] == "Ada"
    assert reconciliation.run(snapshot).outcome.published == 0


def test_a_run_that_would_deprovision_too_many_is_held_until_released(
    pool: str, cognito: Any, own: LocalDeployment, tmp_path: Path, lifecycle: Lifecycle
) -> None:
    reconciliation = Reconciliation(own, tmp_path, POLICY)  # 5%
    for number in range(10):
        seed(cognito, pool, f"e{number}", f"E{number}", "staff")
    snapshot = "employeeId,email\n" + "".join(f"E{n},e{n}@example.com\n" for n in range(9))

    held = reconciliation.run(snapshot)
    lifecycle.run()

    assert held.outcome.status == "Held"
    assert held.outcome.held_because == ["1 of 10 managed users would be deprovisioned, over 5%"]
    assert held.outcome.published == 0
    assert state_of(cognito, pool, "e9")[0] is True
    audits = lifecycle.pipeline.outcomes_of_type("ReconciliationHeld")
    assert [audit["detail"]["runId"] for audit in audits] == [held.outcome.run_id]

    released = reconciliation.reconciler.release(held.outcome.run_id)
    lifecycle.run()

    assert (released.status, released.released, released.published) == ("Completed", True, 1)
    assert state_of(cognito, pool, "e9")[0] is False


def test_a_snapshot_much_shorter_than_the_last_applied_one_is_held(
    pool: str, cognito: Any, reconciliation: Reconciliation
) -> None:
    rows = [f"E{n},e{n}@example.com\n" for n in range(10)]
    assert reconciliation.run("employeeId,email\n" + "".join(rows)).outcome.status == "Completed"

    short = reconciliation.run("employeeId,email\n" + "".join(rows[:8]))

    assert short.outcome.status == "Held"
    assert short.outcome.held_because[-1] == "8 rows against 10 in the last applied snapshot, under 90%"


def test_a_snapshot_refused_whole_applies_nothing(
    pool: str, reconciliation: Reconciliation, lifecycle: Lifecycle
) -> None:
    with pytest.raises(SnapshotRefused, match="line 1: the header lacks the required column"):
        reconciliation.run("employeeId,givenName\nE1,Ada\n")

    assert take_all(lifecycle.pipeline.sqs, lifecycle.deployment.planner_queue.url) == []


def test_bad_rows_are_skipped_and_reported_and_too_many_hold_the_run(
    pool: str, reconciliation: Reconciliation
) -> None:
    snapshot = "employeeId,email\nE1,e1@example.com\nE2,not-an-email\nE3,e3@example.com\n"

    run = reconciliation.run(snapshot)

    assert run.outcome.status == "Held"
    assert run.outcome.held_because == ["1 of 3 rows are bad, over 1%"]
    report = reconciliation.reconciler_report(run)
    (bad,) = [line for line in report if line["kind"] == "badRow"]
    assert (bad["line"], bad["employeeId"]) == (3, "E2")
    assert bad["changes"][0].startswith("email: String should match pattern")


def test_the_pool_is_read_in_pages_and_group_listings_under_the_userlist_quota(
    pool: str, cognito: Any, reconciliation: Reconciliation, local_aws: LocalAws
) -> None:
    for number in range(130):
        seed(cognito, pool, f"e{number}", f"E{number}", "staff")
    snapshot = "employeeId,email,groups\n" + "".join(f"E{n},e{n}@example.com,staff\n" for n in range(130))
    local_aws.enforce_quotas()
    try:
        run = reconciliation.run(snapshot, apply=False)
        quotas = local_aws.quota_report()
    finally:
        local_aws.enforce_quotas(False)

    # 130 users: 3 pages; staff: 3 pages; the other managed groups and the absent admins group: 1 call each
    assert run.outcome.cognito_calls == {"ListUsers": 3, "ListUsersInGroup": 3 + 3 + 1}
    assert quotas.allowed["UserList"] == 10
    assert quotas.throttled["UserList"] == 0
    assert run.outcome.counts["unchanged"] == 130
