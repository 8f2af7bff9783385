"""The demo's drift scenario, after the roster: the pool drifted by hand, as in real life (an attribute
edited, a user added to a group, a stray managed user created, a user deleted, a leaver's event lost
upstream), then reconciled against the HR snapshot of the roster: a dry run (the table), the repairs applied
through the planner, and the pool checked against the snapshot."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from cognito_workers.reconcile.diff import EVENT_OF_KIND
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.records import DirectoryRecords
from cognito_workers.reconcile.run import Reconciler
from local_aws.context import cdk_context
from local_aws.deployment import OUTCOME_SOURCE, SANDBOX_GROUPS, LocalDeployment
from local_aws.roster import ExpectedUser, Roster
from operator_cli.app import console
from operator_cli.local import Drain, Outcomes
from operator_cli.reconcile import print_outcome

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

STRAY = "stray-contractor"


def drift_and_reconcile(
    deployment: LocalDeployment,
    roster: Roster,
    drain: Drain,
    *,
    reads: CognitoIdentityProviderClient | None = None,
    outcomes: Outcomes | None = None,
) -> dict[str, ExpectedUser | None]:
    """Drift the pool, reconcile it against the roster's snapshot, and return what the pool must now hold.
    `reads`: the reconciler's Cognito client (chaos gives a faulty one); `outcomes`: where the repairs'
    outcome events are collected (by default, their own table is printed)."""
    cognito = boto3.client("cognito-idp")
    pool_id = deployment.user_pool_id
    current = list(current_employees(roster.expected))
    edited, regrouped, deleted, lost_leaver = current[:4]
    expected = dict(roster.expected)

    cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username=edited,
        UserAttributes=[{"Name": "custom:department", "Value": "drifted"}],
    )
    extra_group = next(group for group in SANDBOX_GROUPS if group not in _want(expected, regrouped).groups)
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=regrouped, GroupName=extra_group)
    cognito.admin_create_user(UserPoolId=pool_id, Username=STRAY, MessageAction="SUPPRESS")
    cognito.admin_delete_user(UserPoolId=pool_id, Username=deleted)
    expected[STRAY] = ExpectedUser(enabled=False)  # a leaver: locked out, its groups left
    expected[lost_leaver] = ExpectedUser(enabled=False)  # gone from HR, though its event never came
    console.print(
        f"drift by hand: {edited}'s department edited, {regrouped} added to {extra_group}, {STRAY} created, "
        f"{deleted} deleted, {lost_leaver}'s leaver event lost"
    )

    with tempfile.TemporaryDirectory() as directory:
        snapshot = Path(directory) / "hr-snapshot.csv"
        snapshot.write_text(snapshot_csv({name: expected[name] for name in current if name != lost_leaver}))
        reconciler = Reconciler(
            cognito=reads or cognito,
            events=boto3.client("events"),
            user_pool_id=pool_id,
            event_bus_name=deployment.event_bus_name,
            outcome_event_source=OUTCOME_SOURCE,
            policy=ReconciliationPolicy.model_validate(cdk_context()["reconciliation"]),
            records=DirectoryRecords(Path(directory)),
        )
        for apply in (False, True):
            with snapshot.open(newline="") as lines:
                run = reconciler.reconcile(snapshot.name, lines, apply=apply)
            print_outcome(run.outcome, "text")
        if run.outcome.status == "Held":  # a small roster: two leavers are over the share
            console.print(
                f"releasing the held run after review, as `cognito-lifecycle reconcile {snapshot.name} "
                f"--release {run.outcome.run_id}` does"
            )
            print_outcome(reconciler.release(run.outcome.run_id), "text")
        collected = outcomes or Outcomes(deployment)
        with collected.collecting():
            drain()
        if outcomes is None:
            console.print(collected.table())
        with snapshot.open(newline="") as lines:
            again = reconciler.reconcile(snapshot.name, lines, apply=False).outcome
        console.print(
            f"reconciled again: {again.counts['unchanged']} unchanged, "
            f"{sum(again.counts[kind] for kind in EVENT_OF_KIND)} to repair"
        )
    return expected


def _want(expected: dict[str, ExpectedUser | None], username: str) -> ExpectedUser:
    want = expected[username]
    assert want is not None
    return want


def snapshot_csv(people: dict[str, ExpectedUser | None]) -> str:
    """The HR system's export of its current employees, as the roster's joiners and movers left them."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["employeeId", "username", "email", "givenName", "groups", "department"])
    for username, want in people.items():
        assert want is not None
        writer.writerow(
            [
                username.upper(),
                username,
                f"{username}@example.com",
                username.capitalize(),
                ";".join(sorted(want.groups)),
                want.attributes["custom:department"],
            ]
        )
    return out.getvalue()


def current_employees(expected: dict[str, ExpectedUser | None]) -> dict[str, ExpectedUser | None]:
    """The people HR still employs: the pool's enabled users once the roster has run."""
    return {name: want for name, want in sorted(expected.items()) if want is not None and want.enabled}
