"""AdminUpdateUserAttributes's params."""

from cognito_workers.params import AttributeType, StringMapType, UserParams


class AdminUpdateUserAttributesParams(UserParams):
    UserAttributes: list[AttributeType]
    ClientMetadata: StringMapType | None = None
