"""Bad input of every kind: a clear error naming the field and the reason, in the DLQ and in an
ActionRejected outcome, and no Cognito call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cognito_workers.catalog import ACTIONS
from tests.conftest import Pipeline


def command(action: str, params: Any, **envelope: Any) -> str:
    return json.dumps({"action": action, "params": params, **envelope})


def event_bridge(detail_type: str, detail: Any) -> str:
    return json.dumps(
        {"id": "bad-input", "detail-type": detail_type, "source": "hr.system", "detail": detail}
    )


GET, LIST, CREATE = "AdminGetUser", "AdminListDevices", "AdminCreateUser"
CASES = [
    (GET, "[1, 2]", "InvalidCommand", "body: must be a JSON object"),
    (GET, command(GET, [1]), "InvalidCommand", "params: Input should be a valid dictionary"),
    (GET, json.dumps({"params": {}}), "UnknownAction", "action: this worker runs AdminGetUser, not None"),
    (
        GET,
        command(GET, {}, idempotencyKey="a\nb"),
        "InvalidCommand",
        "idempotencyKey: String should match pattern",
    ),
    (
        GET,
        command(GET, {"Username": "bad\u0000"}),
        "InvalidParams",
        "params.Username: Value error, must contain",
    ),
    (
        GET,
        command(GET, {"Username": "é" * 10_000}),
        "InvalidParams",
        "params.Username: String should have at most",
    ),
    (GET, command(GET, {}), "InvalidParams", "params.Username: Field required"),
    (GET, command(GET, {"Username": 42}), "InvalidParams", "params.Username: Input should be a valid string"),
    (
        LIST,
        command(LIST, {"Username": "x", "Limit": "10"}),
        "InvalidParams",
        "params.Limit: Input should be a valid",
    ),
    (
        CREATE,
        command(CREATE, {"Username": "x", "MessageAction": "SHOUT"}),
        "InvalidParams",
        "params.MessageAction",
    ),
    (GET, event_bridge(GET, "not an object"), "InvalidCommand", "detail: must be a JSON object"),
    (
        GET,
        event_bridge(GET, {"action": "AdminDeleteUser"}),
        "InvalidCommand",
        "action: 'AdminDeleteUser' disagrees",
    ),
]


@pytest.fixture
def cognito_calls(pipeline: Pipeline) -> Iterator[list[str]]:
    """The cognito-idp operations every worker's client sends while the test runs."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    clients = [pipeline.worker(spec.name).consumer.clients.cognito_idp for spec in ACTIONS]
    for client in clients:
        client.meta.events.register("before-call.cognito-idp", record)
    yield calls
    for client in clients:
        client.meta.events.unregister("before-call.cognito-idp", record)


@pytest.mark.parametrize(("action", "body", "code", "reason"), CASES)
def test_bad_input_is_rejected_naming_the_field_and_the_reason(
    pipeline: Pipeline, cognito_calls: list[str], action: str, body: str, code: str, reason: str
) -> None:
    message_id = pipeline.send(action, body)

    report = pipeline.deliver(action)

    assert (report.received, report.failed_message_ids) == (1, ())
    assert cognito_calls == []
    (dead,) = pipeline.dead_letters(action)
    attributes = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
    assert attributes["ErrorCode"] == code
    assert attributes["ErrorMessage"].startswith(reason)
    assert attributes["SourceMessageId"] == message_id
    (outcome,) = pipeline.outcomes_of_message(message_id)
    assert outcome["detail-type"] == "ActionRejected"
    assert outcome["detail"]["error"] == {"code": code, "message": attributes["ErrorMessage"]}
