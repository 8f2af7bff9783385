"""Secrets stay out by field, and a message that quotes one in any form is withheld whole; reasons that do not
quote one stay readable however short the secrets are. No server: Cognito and the function's own AWS
clients are botocore Stubbers."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import AfterValidator, BaseModel, ValidationError

from cognito_workers.catalog import ACTIONS_BY_NAME
from cognito_workers.clients import AwsClients
from cognito_workers.errors import describe_validation_error
from cognito_workers.observability import logger
from cognito_workers.redaction import WITHHELD, echoes_secret, secret_values
from cognito_workers.settings import WorkerSettings
from cognito_workers.worker import ActionWorker
from local_aws.lambda_sqs import LambdaContext, sqs_event

CREATE_USER = ACTIONS_BY_NAME["AdminCreateUser"]
INITIATE_AUTH = ACTIONS_BY_NAME["AdminInitiateAuth"]
RESPOND_TO_CHALLENGE = ACTIONS_BY_NAME["AdminRespondToAuthChallenge"]
POOL = "us-east-1_Offline"
MAX_RECEIVE_COUNT = 3


def json_escaped(secret: str) -> str:
    return json.dumps(secret)[1:-1]


def url_encoded(secret: str) -> str:
    return urllib.parse.quote(secret, safe="")


def base64_encoded(secret: str) -> str:
    return base64.b64encode(secret.encode()).decode()


# --- Which values are secret --------------------------------------------------------------------------------


def test_the_catalog_names_secret_leaves_and_leaves_usernames_out() -> None:
    params = {
        "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "jdoe", "PASSWORD": "pw", "SECRET_HASH": "hash", "DEVICE_KEY": "dk"},
        "Session": "session-token",
        "ClientMetadata": {"note": "not secret"},
    }

    assert secret_values(INITIATE_AUTH, params) == {"pw", "hash", "session-token"}
    assert secret_values(CREATE_USER, {"Username": "jdoe", "TemporaryPassword": "Temp-1"}) == {"Temp-1"}


def test_a_challenge_answer_under_a_key_the_catalog_does_not_know_is_secret() -> None:
    responses = {"USERNAME": "jdoe", "NEW_PASSWORD": "new", "ANSWER": "42", "SOME_FUTURE_KEY": "future"}

    assert secret_values(RESPOND_TO_CHALLENGE, {"ChallengeResponses": responses}) == {"new", "42", "future"}


def test_secret_values_of_invalid_params_are_every_string_in_them() -> None:
    params = {"TemporaryPassword": ["a", {"key": "cd"}, 7, ""], "Username": "u"}

    assert secret_values(CREATE_USER, params) == {"a", "cd"}


# --- Echoes in any form -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("l", "Password l is invalid"),
        ("ab", "rejected: ab"),
        ('q"\\', 'bad password "q\\"\\\\"'),
        ("p@ss w/rd", "password=p%40ss%20w%2Frd rejected"),
        ("p@ss w/rd", "password=p%40ss+w%2frd rejected"),
        ("Pässwort!", "the password was UMOkc3N3b3J0IQ== in base64"),
        ("Pässwort!", "the password was UMOkc3N3b3J0IQ in base64url"),
        ("<pw&>", "in HTML: &lt;pw&amp;&gt;"),
    ],
)
def test_an_echo_is_found_raw_escaped_encoded_or_in_base64(secret: str, message: str) -> None:
    assert echoes_secret(message, {secret})


def test_overlapping_secrets_are_each_found_and_a_message_without_them_is_not() -> None:
    secrets = {"abc", "bcd", "xy"}

    assert echoes_secret("saw bcd", secrets)
    assert echoes_secret("saw xy", secrets)
    assert not echoes_secret("saw ab, cd, x and y apart", secrets)
    assert not echoes_secret("anything at all", {""})


# --- Validation reasons -------------------------------------------------------------------------------------


def invalid(model: type[BaseModel], params: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(params)
    return raised.value


@pytest.mark.parametrize("password", ["l", "a", "e", "il", "la", "da"])
def test_a_reason_stays_whole_whatever_short_secret_is_sent_beside_it(password: str) -> None:
    error = invalid(
        CREATE_USER.params_model,
        {"UserPoolId": POOL, "Username": "jdoe", "TemporaryPassword": password, "ClientMetadata": 3},
    )

    reason = describe_validation_error(error, "params", CREATE_USER.holds_secret_at)

    assert reason == "params.ClientMetadata: Input should be a valid dictionary"


def test_a_reason_about_a_secret_field_names_the_field_and_never_its_value() -> None:
    error = invalid(
        CREATE_USER.params_model, {"UserPoolId": POOL, "Username": "jdoe", "TemporaryPassword": "two words"}
    )

    reason = describe_validation_error(error, "params", CREATE_USER.holds_secret_at)

    assert reason.startswith("params.TemporaryPassword: ")
    assert "two words" not in reason


def _echoing(value: str) -> str:
    raise ValueError(f"{value!r} is not allowed")


class EchoingValidator(BaseModel):
    """A model whose validator quotes the value it refuses, as a careless one might."""

    secret: Annotated[str, AfterValidator(_echoing)]
    public: Annotated[str, AfterValidator(_echoing)]


def test_a_validator_message_that_echoes_a_secret_field_is_withheld_whole() -> None:
    error = invalid(EchoingValidator, {"secret": "hunter2", "public": "jdoe"})

    reason = describe_validation_error(error, "params", lambda location: location == ("secret",))

    assert reason == (
        f"params.secret: value_error ({WITHHELD}); params.public: Value error, 'jdoe' is not allowed"
    )


# --- The worker, with a Cognito that echoes the password ----------------------------------------------------


@dataclass
class OfflineWorker:
    """AdminCreateUser's worker with every AWS client a Stubber, and what it sent anywhere but to Cognito (its
    idempotency table, its DLQ, the bus) or logged."""

    worker: ActionWorker
    stubbers: dict[str, Stubber]
    sent: list[str] = field(default_factory=list)
    logs: io.StringIO = field(default_factory=io.StringIO)

    def deliver(self, params: dict[str, Any], receive_count: int = 1) -> dict[str, Any]:
        body = json.dumps(
            {"action": "AdminCreateUser", "idempotencyKey": str(uuid.uuid4()), "params": params}
        )
        message: Any = {
            "MessageId": str(uuid.uuid4()),
            "ReceiptHandle": "offline",
            "Body": body,
            "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
            "Attributes": {"ApproximateReceiveCount": str(receive_count)},
        }
        queue_arn = "arn:aws:sqs:us-east-1:123456789012:AdminCreateUser"
        response: dict[str, Any] = self.worker.handler(
            sqs_event([message], queue_arn), LambdaContext(function_name="AdminCreateUser")
        )
        return response

    def outcome(self) -> dict[str, Any]:
        """The one outcome event the worker put on the bus."""
        (entries,) = [json.loads(sent)["Entries"] for sent in self.sent if '"Entries"' in sent]
        (entry,) = entries
        return {"detail-type": entry["DetailType"], "detail": json.loads(entry["Detail"])}

    def everything_that_left(self) -> str:
        return "\n".join([*self.sent, self.logs.getvalue()])


@pytest.fixture
def offline_worker() -> Iterator[OfflineWorker]:
    session = boto3.session.Session(
        aws_access_key_id="offline", aws_secret_access_key="offline", region_name="us-east-1"
    )
    # A worker of its own: the idempotency layer keeps the DynamoDB client it was first built with.
    worker = ActionWorker("AdminCreateUser")
    worker.consumer.clients = AwsClients(session)
    worker.consumer.settings = WorkerSettings.model_validate(
        {
            "USER_POOL_ID": POOL,
            "EVENT_BUS_NAME": "offline-bus",
            "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/offline",
            "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/offline-dlq",
            "MAX_RECEIVE_COUNT": MAX_RECEIVE_COUNT,
            "IDEMPOTENCY_TABLE_NAME": "offline-idempotency",
            "QUOTA_BUDGET_TABLE_NAME": "offline-budget",
            "QUOTA_REQUESTS_PER_SECOND": 50,
        }
    )
    # Cognito is the one place the password must go; what the function sends to its own resources is recorded.
    own_clients = {
        "dynamodb": worker.consumer.clients.dynamodb,
        "sqs": worker.consumer.clients.sqs,
        "events": worker.consumer.clients.events,
    }
    clients = {"cognito": worker.consumer.clients.cognito_idp, **own_clients}
    offline = OfflineWorker(worker, {name: Stubber(client) for name, client in clients.items()})
    for client in own_clients.values():
        client.meta.events.register(
            "provide-client-params", lambda params, **_: offline.sent.append(json.dumps(params, default=str))
        )
    capture = logging.StreamHandler(offline.logs)
    capture.setFormatter(logger.registered_formatter)
    # Every line, DEBUG included: the consumer's batch loop logs a failed record's error at DEBUG, and
    # Powertools' idempotency utility its own lines.
    loggers = [logging.getLogger(logger.name), logging.getLogger("aws_lambda_powertools")]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.addHandler(capture)
        each.setLevel(logging.DEBUG)
    for stubber in offline.stubbers.values():
        stubber.activate()
    try:
        yield offline
    finally:
        for each, level in zip(loggers, levels, strict=True):
            each.removeHandler(capture)
            each.setLevel(level)
        for stubber in offline.stubbers.values():
            stubber.deactivate()


def expect_a_started_command(offline: OfflineWorker) -> None:
    """What precedes the Cognito call: the idempotency record made, and the call's quota budget booking."""
    offline.stubbers["dynamodb"].add_response("put_item", {})
    offline.stubbers["dynamodb"].add_response("update_item", {"Attributes": {"used": {"N": "1"}}})


def expect_a_refused_create(offline: OfflineWorker, code: str, status: int, message: str) -> None:
    """The calls of one command that Cognito refuses and that is then given up: the command started, the
    idempotency record deleted, the DLQ entry and the outcome event."""
    expect_a_started_command(offline)
    offline.stubbers["cognito"].add_client_error(
        "admin_create_user", service_error_code=code, service_message=message, http_status_code=status
    )
    offline.stubbers["dynamodb"].add_response("delete_item", {})
    offline.stubbers["sqs"].add_response("send_message", {"MessageId": str(uuid.uuid4())})
    offline.stubbers["events"].add_response(
        "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())}]}
    )


PASSWORD = 'Tmp"P@ss/wörd1'


@pytest.mark.parametrize("form", [str, json_escaped, url_encoded, base64_encoded])
@pytest.mark.parametrize(
    ("code", "status", "outcome"),
    [("InvalidPasswordException", 400, "ActionRejected"), ("InternalErrorException", 500, "ActionFailed")],
)
def test_a_cognito_message_that_echoes_the_password_is_withheld_everywhere(
    offline_worker: OfflineWorker, form: Any, code: str, status: int, outcome: str
) -> None:
    # Given a Cognito that quotes the password in its refusal (raw, JSON-escaped, URL-encoded or in base64)
    expect_a_refused_create(offline_worker, code, status, f"Password {form(PASSWORD)} does not conform")

    # When the command is given up (rejected at once, or failing on its last delivery)
    params = {"Username": "jdoe", "TemporaryPassword": PASSWORD}
    response = offline_worker.deliver(params, receive_count=MAX_RECEIVE_COUNT)

    # Then its outcome and its DLQ entry carry the code and the withheld message, and nothing that left the
    # function (calls to AWS, log lines at DEBUG) holds the password in any form
    assert response == {"batchItemFailures": []}
    assert offline_worker.outcome()["detail-type"] == outcome
    assert offline_worker.outcome()["detail"]["error"] == {"code": code, "message": WITHHELD}
    assert not echoes_secret(offline_worker.everything_that_left(), {PASSWORD})
    for stubber in offline_worker.stubbers.values():
        stubber.assert_no_pending_responses()


def test_a_retried_echo_is_withheld_from_the_batch_loops_debug_log(offline_worker: OfflineWorker) -> None:
    expect_a_started_command(offline_worker)
    offline_worker.stubbers["cognito"].add_client_error(
        "admin_create_user",
        service_error_code="InternalErrorException",
        service_message=f"could not store {PASSWORD}",
        http_status_code=500,
    )
    offline_worker.stubbers["dynamodb"].add_response("delete_item", {})

    response = offline_worker.deliver({"Username": "jdoe", "TemporaryPassword": PASSWORD}, receive_count=1)

    assert len(response["batchItemFailures"]) == 1
    assert WITHHELD in offline_worker.logs.getvalue()
    assert not echoes_secret(offline_worker.everything_that_left(), {PASSWORD})


def test_a_cognito_message_without_the_password_is_kept_as_cognito_wrote_it(
    offline_worker: OfflineWorker,
) -> None:
    message = "Password does not conform to policy: Password must have symbol characters"
    expect_a_refused_create(offline_worker, "InvalidPasswordException", 400, message)

    offline_worker.deliver({"Username": "jdoe", "TemporaryPassword": "Xq9Zk7Vw"})

    assert offline_worker.outcome()["detail"]["error"] == {
        "code": "InvalidPasswordException",
        "message": message,
    }


def test_a_rejection_with_a_one_character_password_names_the_field(offline_worker: OfflineWorker) -> None:
    offline_worker.stubbers["sqs"].add_response("send_message", {"MessageId": str(uuid.uuid4())})
    offline_worker.stubbers["events"].add_response(
        "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())}]}
    )

    offline_worker.deliver({"Username": "jdoe", "TemporaryPassword": "l", "ClientMetadata": "x"})

    assert offline_worker.outcome()["detail"]["error"] == {
        "code": "InvalidParams",
        "message": "params.ClientMetadata: Input should be a valid dictionary",
    }
