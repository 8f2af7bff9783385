"""AddCustomAttributes converges on Cognito's "already exists" only when the pool holds the attributes as
asked: the comparison with the pool's schema, and when run_action reads it."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from cognito_workers.catalog import ACTIONS, ACTIONS_BY_NAME
from cognito_workers.cognito import run_action
from cognito_workers.custom_attributes import custom_attribute_differences
from cognito_workers.errors import CommandRejected, RetryableFailure


def unpaced() -> None:
    """No quota budget: Cognito is a stub here."""


POOL_ID = "us-east-1_AbC123"
EXISTS = "custom:dept: Existing attribute already has name custom:dept."


def pool(*attributes: dict[str, Any]) -> dict[str, Any]:
    """A DescribeUserPool response whose schema holds a standard attribute and these."""
    standard = {"Name": "email", "AttributeDataType": "String", "Mutable": True, "Required": False}
    return {"UserPool": {"Id": POOL_ID, "SchemaAttributes": [standard, *attributes]}}


def existing(name: str = "custom:dept", data_type: str = "String", **fields: Any) -> dict[str, Any]:
    """A custom attribute as DescribeUserPool reports it."""
    return {
        "Name": name,
        "AttributeDataType": data_type,
        "DeveloperOnlyAttribute": False,
        "Mutable": True,
        "Required": False,
        **fields,
    }


DEPT_AS_STRING = {"Name": "dept", "AttributeDataType": "String"}


def asked(*attributes: dict[str, Any]) -> dict[str, Any]:
    return {"UserPoolId": POOL_ID, "CustomAttributes": list(attributes)}


@pytest.mark.parametrize(
    "attribute",
    [
        DEPT_AS_STRING,
        {**DEPT_AS_STRING, "Mutable": True},
        {**DEPT_AS_STRING, "StringAttributeConstraints": {"MaxLength": "64"}},
        {"Name": "dept"},  # the type left to Cognito's default: nothing asked, nothing compared
    ],
)
def test_an_attribute_that_exists_as_asked_has_no_difference(attribute: dict[str, Any]) -> None:
    schema = pool(existing(StringAttributeConstraints={"MinLength": "0", "MaxLength": "64"}))
    assert custom_attribute_differences(asked(attribute), schema) == []


def test_another_type_is_named_with_both_types() -> None:
    differences = custom_attribute_differences(
        asked({"Name": "dept", "AttributeDataType": "Number"}), pool(existing())
    )
    assert differences == ["custom:dept exists as String, asked as Number"]


@pytest.mark.parametrize(
    ("attribute", "difference"),
    [
        (
            {**DEPT_AS_STRING, "Mutable": False},
            "custom:dept exists with Mutable True, asked False",
        ),
        (
            {**DEPT_AS_STRING, "StringAttributeConstraints": {"MaxLength": "32"}},
            "custom:dept exists with StringAttributeConstraints.MaxLength 64, asked 32",
        ),
        (
            {**DEPT_AS_STRING, "StringAttributeConstraints": {"MinLength": "1"}},
            "custom:dept exists with StringAttributeConstraints.MinLength unset, asked 1",
        ),
    ],
)
def test_other_constraints_are_named(attribute: dict[str, Any], difference: str) -> None:
    schema = pool(existing(StringAttributeConstraints={"MaxLength": "64"}))
    assert custom_attribute_differences(asked(attribute), schema) == [difference]


def test_number_constraints_are_compared_as_cognito_reports_them() -> None:
    # moto and Cognito report the constraints of the other type as null or {}: never a difference
    schema = pool(
        existing(
            name="custom:level",
            data_type="Number",
            NumberAttributeConstraints={"MinValue": "1", "MaxValue": "9"},
            StringAttributeConstraints=None,
        )
    )
    same = {"Name": "level", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MaxValue": "9"}}
    other = {**same, "NumberAttributeConstraints": {"MaxValue": "10"}}
    assert custom_attribute_differences(asked(same), schema) == []
    assert custom_attribute_differences(asked(other), schema) == [
        "custom:level exists with NumberAttributeConstraints.MaxValue 9, asked 10"
    ]


def test_a_developer_only_attribute_is_found_under_its_dev_name() -> None:
    schema = pool(existing(name="dev:custom:secret", DeveloperOnlyAttribute=True))
    attribute = {"Name": "secret", "AttributeDataType": "String", "DeveloperOnlyAttribute": True}
    assert custom_attribute_differences(asked(attribute), schema) == []
    assert custom_attribute_differences(asked({**attribute, "DeveloperOnlyAttribute": False}), schema) == [
        "custom:secret exists with DeveloperOnlyAttribute True, asked False"
    ]


def test_an_attribute_missing_beside_one_that_exists_is_a_difference() -> None:
    # Cognito refuses the whole call when one attribute exists: the new one was not added
    differences = custom_attribute_differences(
        asked(DEPT_AS_STRING, {**DEPT_AS_STRING, "Name": "site"}),
        pool(existing()),
    )
    assert len(differences) == 1
    assert differences[0].startswith("custom:site is not in the pool's schema")


class StubCognito:
    """AddCustomAttributes answers with `error`; DescribeUserPool with `schema` or `read_error`."""

    def __init__(
        self,
        error: ClientError | None,
        schema: dict[str, Any] | None = None,
        read_error: ClientError | None = None,
    ) -> None:
        self.error, self.schema, self.read_error = error, schema, read_error
        self.calls: list[str] = []

    def add_custom_attributes(self, **params: Any) -> dict[str, Any]:
        self.calls.append("AddCustomAttributes")
        if self.error is not None:
            raise self.error
        return {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def describe_user_pool(self, *, UserPoolId: str) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.calls.append("DescribeUserPool")
        if self.read_error is not None:
            raise self.read_error
        assert self.schema is not None
        return self.schema


def client_error(code: str, message: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Operation",
    )


SPEC = ACTIONS_BY_NAME["AddCustomAttributes"]


def params(data_type: str) -> Any:
    return SPEC.params_model.model_validate(
        {"UserPoolId": POOL_ID, "CustomAttributes": [{"Name": "dept", "AttributeDataType": data_type}]}
    )


def test_the_pool_is_not_read_when_the_attribute_is_added() -> None:
    cognito = StubCognito(error=None)
    assert run_action(cognito, SPEC, params("String"), before_each_call=unpaced).already_applied is None  # type: ignore[arg-type]
    assert cognito.calls == ["AddCustomAttributes"]


def test_the_pool_is_not_read_when_cognito_refuses_for_another_reason() -> None:
    cognito = StubCognito(error=client_error("InvalidParameterException", "Invalid AttributeDataType"))
    with pytest.raises(CommandRejected):
        run_action(cognito, SPEC, params("String"), before_each_call=unpaced)  # type: ignore[arg-type]
    assert cognito.calls == ["AddCustomAttributes"]


def test_an_existing_attribute_of_the_asked_type_converges() -> None:
    cognito = StubCognito(error=client_error("InvalidParameterException", EXISTS), schema=pool(existing()))
    response = run_action(cognito, SPEC, params("String"), before_each_call=unpaced)  # type: ignore[arg-type]
    assert response.already_applied is not None
    assert cognito.calls == ["AddCustomAttributes", "DescribeUserPool"]


def test_the_confirming_read_waits_for_its_turn_in_the_quota_budget_too() -> None:
    cognito = StubCognito(error=client_error("InvalidParameterException", EXISTS), schema=pool(existing()))
    turns: list[list[str]] = []
    # Each wait for a turn records the Cognito calls made before it
    run_action(cognito, SPEC, params("String"), before_each_call=lambda: turns.append(list(cognito.calls)))  # type: ignore[arg-type]
    assert turns == [[], ["AddCustomAttributes"]]


def test_an_existing_attribute_of_another_type_is_rejected_naming_both_types() -> None:
    cognito = StubCognito(error=client_error("InvalidParameterException", EXISTS), schema=pool(existing()))
    with pytest.raises(CommandRejected) as rejected:
        run_action(cognito, SPEC, params("Number"), before_each_call=unpaced)  # type: ignore[arg-type]
    assert rejected.value.code == "ConflictsWithExisting"
    assert rejected.value.message.startswith("custom:dept exists as String, asked as Number")
    assert EXISTS in rejected.value.message


def test_a_throttled_read_is_retried() -> None:
    cognito = StubCognito(
        error=client_error("InvalidParameterException", EXISTS),
        read_error=client_error("TooManyRequestsException", "Rate exceeded"),
    )
    with pytest.raises(RetryableFailure):
        run_action(cognito, SPEC, params("String"), before_each_call=unpaced)  # type: ignore[arg-type]


def test_only_add_custom_attributes_confirms_by_a_read() -> None:
    extra = {spec.name: spec.cognito_actions[1:] for spec in ACTIONS if spec.cognito_actions[1:]}
    assert extra == {"AddCustomAttributes": ("DescribeUserPool",)}
    assert all(spec.cognito_actions[0] == spec.name for spec in ACTIONS)
