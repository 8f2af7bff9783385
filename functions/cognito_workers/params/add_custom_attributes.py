"""AddCustomAttributes's params."""

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from cognito_workers.params import ActionParams, CognitoShape, LongStringType, visible_only

CustomAttributeNameType = Annotated[
    str, StringConstraints(min_length=1, max_length=20), AfterValidator(visible_only)
]


class NumberAttributeConstraintsType(CognitoShape):
    MinValue: LongStringType | None = None
    MaxValue: LongStringType | None = None


class StringAttributeConstraintsType(CognitoShape):
    MinLength: LongStringType | None = None
    MaxLength: LongStringType | None = None


class SchemaAttributeType(CognitoShape):
    Name: CustomAttributeNameType | None = None
    AttributeDataType: Literal["String", "Number", "DateTime", "Boolean"] | None = None
    DeveloperOnlyAttribute: bool | None = None
    Mutable: bool | None = None
    Required: bool | None = None
    NumberAttributeConstraints: NumberAttributeConstraintsType | None = None
    StringAttributeConstraints: StringAttributeConstraintsType | None = None


class AddCustomAttributesParams(ActionParams):
    CustomAttributes: Annotated[list[SchemaAttributeType], Field(min_length=1, max_length=25)]
