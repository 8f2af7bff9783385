"""Secrets never leave the function in clear: not in logs, outcomes, DLQ bodies or reasons, or idempotency
records."""

from __future__ import annotations

import io
import json
import urllib.parse
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cognito_workers.redaction import WITHHELD
from local_aws.deployment import LocalDeployment
from tests.conftest import Pipeline
from tests.integration.conftest import PASSWORD

TEMPORARY_PASSWORD = "Temp-Secret-4242!"


def everything_that_left(pipeline: Pipeline, deployment: LocalDeployment, action: str, output: str) -> str:
    """Logs, outcomes, the DLQ (bodies and attributes) and the idempotency table, as one text to search."""
    dead = pipeline.dead_letters(action)
    items = boto3.client("dynamodb").scan(TableName=deployment.idempotency_table_name)["Items"]
    return "\n".join(
        [output, json.dumps(pipeline.outcomes, default=str), json.dumps(dead), json.dumps(items)]
    )


def test_a_temporary_password_stays_secret_on_success_and_on_rejection(
    pipeline: Pipeline, deployment: LocalDeployment, unique: Any, worker_logs: io.StringIO
) -> None:
    accepted = {
        "Username": unique("joiner"),
        "TemporaryPassword": TEMPORARY_PASSWORD,
        "MessageAction": "SUPPRESS",
    }
    # Cognito refuses this one (an invitation re-sent to a user that does not exist), password and all.
    refused = {**accepted, "Username": unique("joiner"), "MessageAction": "RESEND"}

    succeeded = pipeline.run("AdminCreateUser", accepted)
    rejected = pipeline.run("AdminCreateUser", refused)

    assert succeeded["detail-type"] == "ActionSucceeded"
    assert rejected["detail-type"] == "ActionRejected"
    assert TEMPORARY_PASSWORD not in everything_that_left(
        pipeline, deployment, "AdminCreateUser", worker_logs.getvalue()
    )


@pytest.mark.parametrize("echo", [TEMPORARY_PASSWORD, urllib.parse.quote(TEMPORARY_PASSWORD, safe="")])
def test_a_cognito_refusal_that_echoes_the_password_is_withheld_whole(
    pipeline: Pipeline, deployment: LocalDeployment, unique: Any, worker_logs: io.StringIO, echo: str
) -> None:
    # The local Cognito never quotes a password; this one does (as is, or URL-encoded) in its refusal.
    params = {
        "Username": unique("joiner"),
        "TemporaryPassword": TEMPORARY_PASSWORD,
        "MessageAction": "SUPPRESS",
    }
    with Stubber(pipeline.worker("AdminCreateUser").consumer.clients.cognito_idp) as cognito:
        cognito.add_client_error(
            "admin_create_user",
            service_error_code="InvalidPasswordException",
            service_message=f"Password {echo} does not conform to policy",
        )
        rejected = pipeline.run("AdminCreateUser", params)

    assert rejected["detail"]["error"] == {"code": "InvalidPasswordException", "message": WITHHELD}
    leaked = everything_that_left(pipeline, deployment, "AdminCreateUser", worker_logs.getvalue())
    assert TEMPORARY_PASSWORD not in leaked
    assert echo not in leaked


def test_auth_parameters_tokens_and_sessions_stay_secret(
    pipeline: Pipeline,
    cognito: Any,
    deployment: LocalDeployment,
    signed_in_user: str,
    worker_logs: io.StringIO,
) -> None:
    auth = {"ClientId": deployment.app_client_id, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH"}
    good = {**auth, "AuthParameters": {"USERNAME": signed_in_user, "PASSWORD": PASSWORD}}
    wrong = {**auth, "AuthParameters": {"USERNAME": signed_in_user, "PASSWORD": f"{PASSWORD}-wrong"}}
    tokens = cognito.admin_initiate_auth(UserPoolId=deployment.user_pool_id, **good)["AuthenticationResult"]

    assert pipeline.run("AdminInitiateAuth", good)["detail-type"] == "ActionSucceeded"
    assert pipeline.run("AdminInitiateAuth", wrong)["detail-type"] == "ActionRejected"

    leaked = everything_that_left(pipeline, deployment, "AdminInitiateAuth", worker_logs.getvalue())
    assert PASSWORD not in leaked
    # moto's tokens for one user differ per sign-in; their shared header and claims prefix must not leak.
    assert tokens["RefreshToken"] not in leaked
    assert tokens["AccessToken"].split(".")[0] + "." + tokens["AccessToken"].split(".")[1][:40] not in leaked


def test_every_log_line_names_correlation_id_action_and_username(
    pipeline: Pipeline, signed_in_user: str, worker_logs: io.StringIO
) -> None:
    pipeline.run("AdminGetUser", {"Username": signed_in_user}, correlationId=f"corr-{signed_in_user}")
    pipeline.send("AdminGetUser", "not json")
    pipeline.deliver("AdminGetUser")

    lines = [json.loads(line) for line in worker_logs.getvalue().splitlines() if line.startswith('{"level"')]

    assert len(lines) >= 2
    assert all({"correlation_id", "action", "username"} <= line.keys() for line in lines)
    assert {"correlation_id": f"corr-{signed_in_user}", "username": signed_in_user}.items() <= lines[
        0
    ].items()
