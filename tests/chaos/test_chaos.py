"""The chaos tooling itself: each fault reaches the workers as AWS would deliver it, the secrets scan finds
what it looks for, and the scenarios run end to end at a small size."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from chaos.faults import FaultInjector, FaultPlan
from chaos.scenarios import SCENARIOS, _has_secret, _secret_values, run_in_own_process
from local_aws.deployment import LocalDeployment
from local_aws.server import LocalAws

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def pool_id(local_aws: LocalAws) -> str:
    return str(boto3.client("cognito-idp").create_user_pool(PoolName="chaos")["UserPool"]["Id"])


def _cognito(plan: FaultPlan) -> Any:
    return FaultInjector(plan).session().client("cognito-idp", config=NO_RETRIES)


@pytest.mark.parametrize(
    ("plan", "status", "code"),
    [
        (FaultPlan(throttle_share=1), 400, "TooManyRequestsException"),
        (FaultPlan(server_error_share=1), 500, "InternalErrorException"),
    ],
)
def test_error_answers_parse_as_cognito_errors_and_apply_nothing(
    plan: FaultPlan, status: int, code: str, pool_id: str
) -> None:
    with pytest.raises(ClientError) as raised:
        _cognito(plan).admin_create_user(
            UserPoolId=pool_id, Username=f"never-{status}", MessageAction="SUPPRESS"
        )

    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    users = boto3.client("cognito-idp").list_users(UserPoolId=pool_id)["Users"]
    assert f"never-{status}" not in {user["Username"] for user in users}


def test_a_timeout_after_apply_loses_the_answer_but_not_the_effect(pool_id: str) -> None:
    with pytest.raises(ReadTimeoutError):
        _cognito(FaultPlan(timeout_after_apply_share=1)).admin_create_user(
            UserPoolId=pool_id, Username="applied", MessageAction="SUPPRESS"
        )

    assert boto3.client("cognito-idp").admin_get_user(UserPoolId=pool_id, Username="applied")["Enabled"]


def test_a_reset_connection_applies_nothing(pool_id: str) -> None:
    with pytest.raises(ConnectionClosedError):
        _cognito(FaultPlan(reset_share=1)).admin_create_user(
            UserPoolId=pool_id, Username="reset", MessageAction="SUPPRESS"
        )

    users = boto3.client("cognito-idp").list_users(UserPoolId=pool_id)["Users"]
    assert "reset" not in {user["Username"] for user in users}


def test_faults_hit_about_their_share_and_are_counted(pool_id: str) -> None:
    injector = FaultInjector(FaultPlan(throttle_share=0.5), seed=1)
    cognito = injector.session().client("cognito-idp", config=NO_RETRIES)
    answers = []
    for _ in range(200):
        try:
            cognito.list_groups(UserPoolId=pool_id)
            answers.append("ok")
        except ClientError as error:
            answers.append(error.response["Error"]["Code"])

    assert 70 <= answers.count("TooManyRequestsException") <= 130
    assert injector.injected["throttled"] == answers.count("TooManyRequestsException")


def test_the_secrets_scan_finds_passwords_sessions_and_tokens() -> None:
    params = {"AuthParameters": {"USERNAME": "ann", "PASSWORD": "Pa55-word!"}, "Session": "s3ss10n-value"}
    secrets = set(_secret_values(params))
    token = "eyJraWQiOiJrMSJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJl"

    assert secrets == {"Pa55-word!", "s3ss10n-value"}
    assert _has_secret(json.dumps({"message": "x", "password": "Pa55-word!"}), secrets)
    assert _has_secret('{"result": {"AccessToken": "' + token + '"}}', secrets)
    assert not _has_secret('{"username": "ann", "result": "[REDACTED]"}', secrets)


@pytest.mark.parametrize(
    "name",
    [
        "no faults",
        "every command delivered three times",
        "out of order: HR events shuffled, 10% of commands again 8 s late",
        "reconciled in a throttling storm: 50% of Cognito calls",
    ],
)
def test_scenario_holds_its_invariants_at_a_small_size(name: str) -> None:
    index = next(number for number, scenario in enumerate(SCENARIOS) if scenario.name == name)

    # Without the stack's batching windows: what is checked is the invariants, not each step's wait.
    result = run_in_own_process(index, joiners=4, batching_window_seconds=0)

    assert result.holds, result.findings
    assert result.commands > 4
    assert result.dead_lettered == result.expected_dead_lettered > 0
    assert result.redriven >= result.expected_dead_lettered  # poison redriven, and dead-lettered again
    assert result.secrets_known >= 3
    assert result.artifacts_scanned > result.commands
    if name != "no faults":
        assert result.faults_injected > 0


def test_the_pipeline_process_gets_the_deployment_whole(deployment: LocalDeployment) -> None:
    assert LocalDeployment.from_json(deployment.to_json()) == deployment
