"""The command archive: which events it keeps (matched by moto's EventBridge pattern matcher against the
synthesized pattern, never compared as JSON) and the key it keeps them under."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern
from moto.events.utils import EventMessageType
from pydantic import TypeAdapter, ValidationError

from cognito_workers.catalog import ACTIONS, ACTIONS_BY_NAME, PLANNER, ActionSpec
from infra.event_bus import archive_event_pattern
from tests.infra.conftest import REPO_ROOT, Synthesized, cdk_json_context
from tests.infra.template import account_arn, as_list, flatten, ref_target, statements

SECRET = "not-a-real-secret-but-long-enough"
SECRET_BEARING = [spec for spec in ACTIONS if spec.secret_params]


def archive_props(synthesized: Synthesized) -> dict[str, Any]:
    (archive,) = synthesized.of_type("AWS::Events::Archive").values()
    props: dict[str, Any] = archive["Properties"]
    return props


def archive_pattern(synthesized: Synthesized) -> EventPattern:
    return EventPattern.load(json.dumps(archive_props(synthesized)["EventPattern"]))


def archived_sources(synthesized: Synthesized) -> list[str]:
    return [*synthesized.context["commandSources"], *synthesized.context["hrEventSources"]]


def bus_event(*, source: str, detail_type: str, detail: dict[str, Any]) -> EventMessageType:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": source,
        "account": "111122223333",
        "time": "2026-11-01T12:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


def command(*, source: str, action: str, params: dict[str, Any]) -> EventMessageType:
    detail = {"idempotencyKey": f"archive-test:{action}", "params": {"Username": "jdoe", **params}}
    return bus_event(source=source, detail_type=action, detail=detail)


def secret_values(spec: ActionSpec, name: str) -> list[Any]:
    """What a command of `spec` may carry in its secret param `name`: a value of the shape its params model
    takes, or of any shape where the model does not take `name` (an invalid command reaches the bus too)."""
    shapes: list[Any] = [SECRET, {"PASSWORD": SECRET}]
    field = spec.params_model.model_fields.get(name)
    if field is None or field.annotation is None:
        return shapes
    adapter: TypeAdapter[Any] = TypeAdapter(field.annotation)
    accepted = []
    for shape in shapes:
        try:
            adapter.validate_python(shape)
        except ValidationError:
            continue
        accepted.append(shape)
    assert accepted, f"no sample value fits {spec.name}.{name}"
    return accepted


def test_no_command_that_carries_a_secret_is_archived(synthesized: Synthesized) -> None:
    # Given the synthesized archive pattern and every secret param the catalog knows
    pattern = archive_pattern(synthesized)
    assert SECRET_BEARING, "the catalog marks no secret param: this test would prove nothing"
    for source in archived_sources(synthesized):
        for spec in SECRET_BEARING:
            # When a command carries its secrets, all of them or any one alone
            every_secret = {name: secret_values(spec, name)[0] for name in spec.secret_params}
            carriers = [command(source=source, action=spec.name, params=every_secret)]
            carriers += [
                command(source=source, action=spec.name, params={name: value})
                for name in spec.secret_params
                for value in secret_values(spec, name)
            ]
            # Then the archive keeps none of them
            for carrier in carriers:
                assert not pattern.matches_event(carrier), carrier


def test_commands_without_secrets_and_hr_events_are_archived(synthesized: Synthesized) -> None:
    pattern = archive_pattern(synthesized)
    for source in synthesized.context["commandSources"]:
        # Every command of an action without secret params
        for spec in ACTIONS:
            if not spec.secret_params:
                assert pattern.matches_event(command(source=source, action=spec.name, params={})), spec.name
        # and a joiner's AdminCreateUser that lets Cognito choose the temporary password
        create = command(source=source, action="AdminCreateUser", params={"MessageAction": "SUPPRESS"})
        assert pattern.matches_event(create)
    for source in synthesized.context["hrEventSources"]:
        for detail_type in PLANNER.event_types:
            hr_event = bus_event(source=source, detail_type=detail_type, detail={"employeeId": "E-1001"})
            assert pattern.matches_event(hr_event), (source, detail_type)


@pytest.mark.parametrize("action", ["AdminInitiateAuth", "AdminRespondToAuthChallenge"])
def test_authentication_commands_are_never_archived(synthesized: Synthesized, action: str) -> None:
    # Their secrets are objects (AuthParameters, ChallengeResponses), whose absence a pattern cannot test
    assert ACTIONS_BY_NAME[action].secret_params
    pattern = archive_pattern(synthesized)
    for source in synthesized.context["commandSources"]:
        assert not pattern.matches_event(command(source=source, action=action, params={}))


def test_events_of_other_sources_are_not_archived(synthesized: Synthesized) -> None:
    pattern = archive_pattern(synthesized)
    outcome = bus_event(
        source=synthesized.context["outcomeEventSource"],
        detail_type="ActionSucceeded",
        detail={"action": "AdminDisableUser"},
    )
    assert not pattern.matches_event(outcome)


def test_the_archive_is_encrypted_with_the_stack_key_for_this_bus_only(synthesized: Synthesized) -> None:
    # Given the archive and the stack's one KMS key
    props = archive_props(synthesized)
    ((key_id, key),) = synthesized.of_type("AWS::KMS::Key").items()
    key_policy = statements(key["Properties"]["KeyPolicy"])
    # Then the archive names that key
    assert ref_target(props["KmsKeyIdentifier"]) == key_id
    # and the key lets EventBridge use it for an archive only in the encryption context of this bus
    context_key = "kms:EncryptionContext:aws:events:event-bus:arn"
    (archive_use,) = [s for s in key_policy if context_key in s.get("Condition", {}).get("StringEquals", {})]
    assert archive_use["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(as_list(archive_use["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"]
    bus_arn = account_arn("events", f"event-bus/{synthesized.context['resourcePrefix']}-bus")
    assert flatten(archive_use["Condition"]["StringEquals"][context_key]) == bus_arn
    # DescribeKey carries no encryption context: the user guide grants it without one
    describe = [s for s in key_policy if s["Action"] == "kms:DescribeKey"]
    assert [(s["Principal"], "Condition" in s) for s in describe] == [
        ({"Service": "events.amazonaws.com"}, False)
    ]


def test_the_deploy_guide_shows_the_pattern_of_cdk_json() -> None:
    context = cdk_json_context()
    guide = (REPO_ROOT / "docs" / "deploy.md").read_text()
    section = guide[guide.index("## The command archive") :]
    start = section.index("```json") + len("```json")
    shown = json.loads(section[start : section.index("```", start)])
    assert shown == archive_event_pattern([*context["commandSources"], *context["hrEventSources"]])
