"""The demo's drift scenario, in-process on the reconciliation tests' deployment: after a roster, the pool
drifted by hand in five ways is reconciled (dry run, then applied through the planner) and matches the
snapshot."""

from __future__ import annotations

import boto3

from local_aws.deployment import SANDBOX_GROUPS, LocalDeployment
from local_aws.roster import generate_roster, verify_pool
from operator_cli.drift import STRAY, drift_and_reconcile
from operator_cli.local import pipeline_drain, run_roster


def test_the_drift_made_by_hand_is_reconciled_and_the_pool_matches_the_snapshot(
    reconcile_deployment: LocalDeployment, empty_reconcile_pool: str
) -> None:
    roster = generate_roster(20, groups=SANDBOX_GROUPS, seed=5)
    run_roster(reconcile_deployment, roster)
    cognito = boto3.client("cognito-idp")
    assert verify_pool(cognito, empty_reconcile_pool, roster.expected) == []

    expected = drift_and_reconcile(reconcile_deployment, roster, pipeline_drain(reconcile_deployment))

    assert verify_pool(cognito, empty_reconcile_pool, expected) == []
    assert expected[STRAY] is not None
    assert not expected[STRAY].enabled
    changed = [name for name in roster.expected if expected[name] != roster.expected[name]]
    assert len(changed) == 1  # the leaver whose event was lost; the others are back as the roster left them
