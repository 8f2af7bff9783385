"""How cognito.py sorts Cognito's answers: converged (the catalog's "already applied" answers), retryable
(throttling, internal errors, HTTP 5xx, timeouts and connection failures) or rejected (anything else). No
server: Cognito's answers come from botocore's Stubber, its connection failures from a `before-send` hook."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from cognito_workers.catalog import ACTIONS, ACTIONS_BY_NAME, ActionSpec
from cognito_workers.cognito import RETRYABLE_CODES, run_action
from cognito_workers.errors import CommandRejected, RetryableFailure
from cognito_workers.params import ActionParams


def unpaced() -> None:
    """No quota budget: Cognito is a stub here."""


POOL = "us-east-1_Offline"
# A valid value for every required param of the catalog's actions, by name.
REQUIRED_VALUES: dict[str, Any] = {
    "UserPoolId": POOL,
    "Username": "jdoe",
    "GroupName": "staff",
    "DeviceKey": "us-east-1_0f0f-a1b2",
    "ClientId": "appclient1",
    "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
    "ChallengeName": "NEW_PASSWORD_REQUIRED",
    "UserAttributeNames": ["nickname"],
    "UserAttributes": [{"Name": "nickname", "Value": "jd"}],
    "MFAOptions": [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}],
    "CustomAttributes": [{"Name": "department", "AttributeDataType": "String"}],
}
# The converging answers under test, each as Cognito words it; AddCustomAttributes' is being reworked apart.
CONVERGING_MESSAGES = {
    ("AdminConfirmSignUp", "NotAuthorizedException"): "User cannot be confirmed. Current status is CONFIRMED",
    ("AdminCreateUser", "UsernameExistsException"): "User account already exists",
    ("AdminDeleteUser", "UserNotFoundException"): "User does not exist.",
    ("AdminForgetDevice", "ResourceNotFoundException"): "Device does not exist.",
}
CONNECTION_FAILURES = [
    ReadTimeoutError(endpoint_url="https://cognito-idp.us-east-1.amazonaws.com/"),
    ConnectTimeoutError(endpoint_url="https://cognito-idp.us-east-1.amazonaws.com/"),
    EndpointConnectionError(endpoint_url="https://cognito-idp.us-east-1.amazonaws.com/"),
    ConnectionClosedError(endpoint_url="https://cognito-idp.us-east-1.amazonaws.com/"),
]


def params_of(spec: ActionSpec) -> ActionParams:
    """The action's params with its required fields only."""
    required = [name for name, field in spec.params_model.model_fields.items() if field.is_required()]
    return spec.params_model.model_validate({name: REQUIRED_VALUES[name] for name in required})


@pytest.fixture(scope="module")
def cognito() -> Any:
    """A cognito-idp client that never reaches a network and makes one attempt per call (no retry sleeps);
    one for the module, since making a client costs more than the tests."""
    session = boto3.session.Session(
        aws_access_key_id="offline", aws_secret_access_key="offline", region_name="us-east-1"
    )
    return session.client("cognito-idp", config=Config(retries={"total_max_attempts": 1}))


def answered(cognito: Any, spec: ActionSpec, code: str, message: str, status: int = 400) -> Any:
    """run_action's result, or the error it raises, when Cognito answers the call with an error."""
    with Stubber(cognito) as stubber:
        stubber.add_client_error(
            spec.operation, service_error_code=code, service_message=message, http_status_code=status
        )
        try:
            return run_action(cognito, spec, params_of(spec), before_each_call=unpaced)
        except (RetryableFailure, CommandRejected) as error:
            return error


def test_every_catalog_converging_answer_but_add_custom_attributes_is_under_test() -> None:
    converging = {(spec.name, answer.code) for spec in ACTIONS for answer in spec.already_applied}
    assert converging - {("AddCustomAttributes", "InvalidParameterException")} == set(CONVERGING_MESSAGES)


@pytest.mark.parametrize(("action", "code"), sorted(CONVERGING_MESSAGES))
def test_a_converging_answer_means_already_applied(cognito: Any, action: str, code: str) -> None:
    spec = ACTIONS_BY_NAME[action]

    outcome = answered(cognito, spec, code, CONVERGING_MESSAGES[action, code])

    assert outcome.already_applied is not None
    assert outcome.already_applied.code == code
    assert outcome.response == {}


@pytest.mark.parametrize(
    ("action", "code", "message"),
    [
        (
            "AdminConfirmSignUp",
            "NotAuthorizedException",
            "User cannot be confirmed. Current status is DISABLED",
        ),
        ("AdminForgetDevice", "ResourceNotFoundException", "User pool client does not exist."),
    ],
)
def test_a_converging_code_with_another_message_is_a_rejection(
    cognito: Any, action: str, code: str, message: str
) -> None:
    outcome = answered(cognito, ACTIONS_BY_NAME[action], code, message)

    assert isinstance(outcome, CommandRejected)
    assert (outcome.code, outcome.message) == (code, message)


@pytest.mark.parametrize("spec", ACTIONS, ids=lambda spec: spec.name)
@pytest.mark.parametrize("code", sorted(RETRYABLE_CODES))
def test_a_transient_code_is_retryable(cognito: Any, spec: ActionSpec, code: str) -> None:
    outcome = answered(cognito, spec, code, "Rate exceeded", status=400)

    assert isinstance(outcome, RetryableFailure)
    assert (outcome.code, outcome.message) == (code, "Rate exceeded")


@pytest.mark.parametrize("spec", ACTIONS, ids=lambda spec: spec.name)
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_any_5xx_answer_is_retryable(cognito: Any, spec: ActionSpec, status: int) -> None:
    outcome = answered(cognito, spec, "SomethingUnforeseen", "try again", status=status)

    assert isinstance(outcome, RetryableFailure)
    assert outcome.code == "SomethingUnforeseen"


@pytest.mark.parametrize("spec", ACTIONS, ids=lambda spec: spec.name)
@pytest.mark.parametrize("failure", CONNECTION_FAILURES, ids=lambda failure: type(failure).__name__)
def test_a_timeout_or_a_lost_connection_is_retryable(
    cognito: Any, spec: ActionSpec, failure: Exception
) -> None:
    def fail(**_: Any) -> None:
        raise failure

    event = f"before-send.cognito-identity-provider.{spec.name}"
    cognito.meta.events.register(event, fail)
    try:
        with pytest.raises(RetryableFailure) as raised:
            run_action(cognito, spec, params_of(spec), before_each_call=unpaced)
    finally:
        cognito.meta.events.unregister(event, fail)

    assert raised.value.code == type(failure).__name__


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("InvalidParameterException", 400),
        ("NotAuthorizedException", 400),
        ("UserNotFoundException", 400),
        ("LimitExceededException", 400),
        ("ResourceNotFoundException", 404),
    ],
)
def test_any_other_client_error_is_a_rejection(cognito: Any, code: str, status: int) -> None:
    spec = ACTIONS_BY_NAME["AdminGetUser"]

    outcome = answered(cognito, spec, code, "refused", status=status)

    assert isinstance(outcome, CommandRejected)
    assert (outcome.code, outcome.message) == (code, "refused")


def test_a_success_is_the_response_without_its_metadata(cognito: Any) -> None:
    spec = ACTIONS_BY_NAME["AdminGetUser"]
    with Stubber(cognito) as stubber:
        stubber.add_response(
            spec.operation,
            {"Username": "jdoe", "UserAttributes": [], "ResponseMetadata": {"HTTPStatusCode": 200}},
            {"UserPoolId": POOL, "Username": "jdoe"},
        )
        outcome = run_action(cognito, spec, params_of(spec), before_each_call=unpaced)

    assert outcome.response == {"Username": "jdoe", "UserAttributes": []}
    assert outcome.already_applied is None
