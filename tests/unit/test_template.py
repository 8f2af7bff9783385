"""Resolving a template's intrinsic functions as the local AWS does, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from local_aws.template import Physical, Resolver, TemplateError, edited, set_property

TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 181}},
        "Other": {"Type": "AWS::SQS::Queue", "Properties": {}},
    },
    "Parameters": {"BootstrapVersion": {"Type": "String"}},
}
PSEUDO = {"AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}


def resolver(created: list[str] | None = None) -> Resolver:
    def physical(logical_id: str) -> Physical:
        if created is not None:
            created.append(logical_id)
        return Physical(ref=f"url-of-{logical_id}", attributes={"Arn": f"arn-of-{logical_id}"})

    return Resolver(TEMPLATE, PSEUDO, physical)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Queue"}, "url-of-Queue"),
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn-of-Queue"),
        ({"Fn::GetAtt": "Queue.Arn"}, "arn-of-Queue"),
        ({"Fn::Join": [":", ["a", {"Ref": "AWS::AccountId"}]]}, "a:123456789012"),
        ({"Fn::Sub": "q-${AWS::Region}-${Queue.Arn}-${!Literal}"}, "q-eu-west-1-arn-of-Queue-${Literal}"),
        ({"Fn::Sub": ["${Name}/x", {"Name": {"Ref": "Queue"}}]}, "url-of-Queue/x"),
        ({"Fn::Select": [1, ["a", "b"]]}, "b"),
        ({"Keep": {"Ref": "AWS::NoValue"}, "Also": [1, {"Ref": "AWS::NoValue"}]}, {"Also": [1]}),
    ],
)
def test_intrinsic_functions_resolve(value: Any, expected: Any) -> None:
    assert resolver().resolve(value, "Using", "Properties") == expected


def test_a_reference_creates_its_target_first() -> None:
    created: list[str] = []
    resolver(created).resolve({"A": {"Ref": "Other"}}, "Using", "Properties")
    assert created == ["Other"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Missing"}, "Using.Environment: Ref Missing: no such resource or pseudo parameter"),
        ({"Ref": "BootstrapVersion"}, "Using.Environment: Ref BootstrapVersion: template parameters are not"),
        (
            {"Fn::GetAtt": ["Queue", "QueueName"]},
            "Using.Environment: Fn::GetAtt Queue.QueueName: the local AWS",
        ),
        (
            {"Fn::ImportValue": "shared"},
            "Using.Environment: Fn::ImportValue is not resolved by the local AWS",
        ),
    ],
)
def test_what_cannot_be_resolved_is_named_with_the_resource_and_property(value: Any, message: str) -> None:
    with pytest.raises(TemplateError) as raised:
        resolver().resolve(value, "Using", "Environment")
    assert str(raised.value).startswith(message)


def test_edits_change_a_copy_and_say_why() -> None:
    edit = set_property(
        "AWS::SQS::Queue", "VisibilityTimeout", 30, description="30 s", reason="retries sooner"
    )
    copy = edited(TEMPLATE, [edit])
    assert copy["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] == 30
    assert "VisibilityTimeout" not in copy["Resources"]["Other"]["Properties"]  # set only where it was set
    assert TEMPLATE["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] == 181
    assert str(edit) == "30 s: retries sooner"
