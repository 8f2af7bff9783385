"""Params models: one per action, with the Cognito API's own names, shapes and limits.

Field names, required fields and limits follow botocore's `cognito-idp` service model (a contract test
checks each model against it). Models are strict and closed: a mistyped value or an unknown parameter is
rejected with its field named, never coerced or passed through.
"""

# No `from __future__ import annotations` here: pydantic would have to evaluate every annotation from its
# string, a few ms of each cold start for these models.
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# Unicode categories botocore's patterns allow: \p{L}\p{M}\p{S}\p{N}\p{P} (letters, marks, symbols,
# numbers, punctuation). Python's `re` has no \p{..}, so the check is by category.
_VISIBLE_CATEGORIES = frozenset("LMSNP")
_ATTRIBUTE_NAME_WHITESPACE = frozenset("\t\n\r ")


def _visible_only(value: str) -> str:
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
UsernameType = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_visible_only)]
GroupNameType = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_visible_only)]
DeviceKeyType = Annotated[str, StringConstraints(min_length=1, max_length=55, pattern=r"^[\w-]+_[0-9a-f-]+$")]
ClientIdType = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\w+]+$")]
AttributeNameType = Annotated[
    str, StringConstraints(min_length=1, max_length=32), AfterValidator(_attribute_name_chars)
]
CustomAttributeNameType = Annotated[
    str, StringConstraints(min_length=1, max_length=20), AfterValidator(_visible_only)
]
AttributeValueType = Annotated[str, StringConstraints(max_length=2048)]
PasswordType = Annotated[str, StringConstraints(max_length=256, pattern=r"^\S+$")]
SessionType = Annotated[str, StringConstraints(min_length=20, max_length=4096)]
LongStringType = Annotated[str, StringConstraints(max_length=131072)]
StringMapType = dict[LongStringType, LongStringType]
QueryLimitType = Annotated[int, Field(ge=0, le=60)]
PaginationTokenType = Annotated[str, StringConstraints(min_length=1, pattern=r"^\S+$")]
NextTokenType = Annotated[str, StringConstraints(min_length=1, max_length=131072, pattern=r"^\S+$")]
ChallengeNameType = Literal[
    "SMS_MFA",
    "EMAIL_OTP",
    "SOFTWARE_TOKEN_MFA",
    "SELECT_MFA_TYPE",
    "MFA_SETUP",
    "PASSWORD_VERIFIER",
    "CUSTOM_CHALLENGE",
    "SELECT_CHALLENGE",
    "DEVICE_SRP_AUTH",
    "DEVICE_PASSWORD_VERIFIER",
    "ADMIN_NO_SRP_AUTH",
    "NEW_PASSWORD_REQUIRED",
    "SMS_OTP",
    "PASSWORD",
    "WEB_AUTHN",
    "PASSWORD_SRP",
]
AuthFlowType = Literal[
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "CUSTOM_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_PASSWORD_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "USER_AUTH",
]


class CognitoShape(BaseModel):
    """Strict and closed, like Cognito's own validation. Validators are built on first use, so a
    function pays at cold start only for the models of its own action."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class AttributeType(CognitoShape):
    Name: AttributeNameType
    Value: AttributeValueType | None = None


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


class MFAOptionType(CognitoShape):
    DeliveryMedium: Literal["SMS", "EMAIL"] | None = None
    AttributeName: AttributeNameType | None = None


class AnalyticsMetadataType(CognitoShape):
    AnalyticsEndpointId: LongStringType | None = None


class HttpHeader(CognitoShape):
    headerName: LongStringType | None = None
    headerValue: LongStringType | None = None


class ContextDataType(CognitoShape):
    IpAddress: LongStringType
    ServerName: LongStringType
    ServerPath: LongStringType
    HttpHeaders: list[HttpHeader]
    EncodedData: LongStringType | None = None


class ActionParams(CognitoShape):
    """Base of every action's params: the pool the action works on."""

    UserPoolId: UserPoolIdType


class UserParams(ActionParams):
    Username: UsernameType


class DeviceParams(UserParams):
    DeviceKey: DeviceKeyType


class GroupMembershipParams(UserParams):
    GroupName: GroupNameType


class AddCustomAttributesParams(ActionParams):
    CustomAttributes: Annotated[list[SchemaAttributeType], Field(min_length=1, max_length=25)]


class AdminAddUserToGroupParams(GroupMembershipParams):
    pass


class AdminConfirmSignUpParams(UserParams):
    ClientMetadata: StringMapType | None = None


class AdminCreateUserParams(UserParams):
    UserAttributes: list[AttributeType] | None = None
    ValidationData: list[AttributeType] | None = None
    TemporaryPassword: PasswordType | None = None
    ForceAliasCreation: bool | None = None
    MessageAction: Literal["RESEND", "SUPPRESS"] | None = None
    DesiredDeliveryMediums: list[Literal["SMS", "EMAIL"]] | None = None
    ClientMetadata: StringMapType | None = None


class AdminDeleteUserParams(UserParams):
    pass


class AdminDeleteUserAttributesParams(UserParams):
    UserAttributeNames: list[AttributeNameType]


class AdminDisableUserParams(UserParams):
    pass


class AdminEnableUserParams(UserParams):
    pass


class AdminForgetDeviceParams(DeviceParams):
    pass


class AdminGetDeviceParams(DeviceParams):
    pass


class AdminGetUserParams(UserParams):
    pass


class AdminInitiateAuthParams(ActionParams):
    ClientId: ClientIdType
    AuthFlow: AuthFlowType
    AuthParameters: StringMapType | None = None
    ClientMetadata: StringMapType | None = None
    AnalyticsMetadata: AnalyticsMetadataType | None = None
    ContextData: ContextDataType | None = None
    Session: SessionType | None = None


class AdminListDevicesParams(UserParams):
    Limit: QueryLimitType | None = None
    PaginationToken: PaginationTokenType | None = None


class AdminListGroupsForUserParams(UserParams):
    Limit: QueryLimitType | None = None
    NextToken: NextTokenType | None = None


class AdminRemoveUserFromGroupParams(GroupMembershipParams):
    pass


class AdminResetUserPasswordParams(UserParams):
    ClientMetadata: StringMapType | None = None


class AdminRespondToAuthChallengeParams(ActionParams):
    ClientId: ClientIdType
    ChallengeName: ChallengeNameType
    ChallengeResponses: StringMapType | None = None
    Session: SessionType | None = None
    AnalyticsMetadata: AnalyticsMetadataType | None = None
    ContextData: ContextDataType | None = None
    ClientMetadata: StringMapType | None = None


class AdminSetUserSettingsParams(UserParams):
    MFAOptions: list[MFAOptionType]


class AdminUpdateDeviceStatusParams(DeviceParams):
    DeviceRememberedStatus: Literal["remembered", "not_remembered"] | None = None


class AdminUpdateUserAttributesParams(UserParams):
    UserAttributes: list[AttributeType]
    ClientMetadata: StringMapType | None = None


class AdminUserGlobalSignOutParams(UserParams):
    pass
