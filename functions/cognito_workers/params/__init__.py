"""Params models: one per action, with the Cognito API's own names, shapes and limits.

Each action's model is in a module of its own, named after its boto3 operation (`params/admin_create_user.py`
holds AdminCreateUserParams; catalog.ActionSpec.params_model imports it on first use), so that a function
loads its own action's model alone. This module holds what they are built from.

Field names, required fields and limits follow botocore's `cognito-idp` service model (a contract test
checks each model against it). Models are strict and closed: a mistyped value or an unknown parameter is
rejected with its field named, never coerced or passed through.
"""

# No `from __future__ import annotations` here or in the action modules: pydantic would have to evaluate every
# annotation from its string, a few ms of each cold start for these models.
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# Unicode categories botocore's patterns allow: \p{L}\p{M}\p{S}\p{N}\p{P} (letters, marks, symbols,
# numbers, punctuation). Python's `re` has no \p{..}, so the check is by category.
_VISIBLE_CATEGORIES = frozenset("LMSNP")
_ATTRIBUTE_NAME_WHITESPACE = frozenset("\t\n\r ")


def visible_only(value: str) -> str:
    if any(unicodedata.category(char)[0] not in _VISIBLE_CATEGORIES for char in value):
        raise ValueError("must contain only letters, marks, symbols, numbers and punctuation")
    return value


def _attribute_name_chars(value: str) -> str:
    if any(
        char not in _ATTRIBUTE_NAME_WHITESPACE and unicodedata.category(char)[0] not in _VISIBLE_CATEGORIES
        for char in value
    ):
        raise ValueError("must contain only letters, marks, symbols, numbers, punctuation and spaces")
    return value


UserPoolIdType = Annotated[
    str, StringConstraints(min_length=1, max_length=55, pattern=r"^[\w-]+_[0-9a-zA-Z]+$")
]
UsernameType = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(visible_only)]
GroupNameType = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(visible_only)]
DeviceKeyType = Annotated[str, StringConstraints(min_length=1, max_length=55, pattern=r"^[\w-]+_[0-9a-f-]+$")]
AttributeNameType = Annotated[
    str, StringConstraints(min_length=1, max_length=32), AfterValidator(_attribute_name_chars)
]
AttributeValueType = Annotated[str, StringConstraints(max_length=2048)]
LongStringType = Annotated[str, StringConstraints(max_length=131072)]
StringMapType = dict[LongStringType, LongStringType]
QueryLimitType = Annotated[int, Field(ge=0, le=60)]


class CognitoShape(BaseModel):
    """Strict and closed, like Cognito's own validation. Validators are built on first use, so a
    function pays at cold start only for the models of its own action."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class AttributeType(CognitoShape):
    Name: AttributeNameType
    Value: AttributeValueType | None = None


class ActionParams(CognitoShape):
    """Base of every action's params: the pool the action works on."""

    UserPoolId: UserPoolIdType


class UserParams(ActionParams):
    Username: UsernameType


class DeviceParams(UserParams):
    DeviceKey: DeviceKeyType


class GroupMembershipParams(UserParams):
    GroupName: GroupNameType
