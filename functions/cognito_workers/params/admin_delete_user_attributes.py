"""AdminDeleteUserAttributes's params."""

from cognito_workers.params import AttributeNameType, UserParams


class AdminDeleteUserAttributesParams(UserParams):
    UserAttributeNames: list[AttributeNameType]
