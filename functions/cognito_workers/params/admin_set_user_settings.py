"""AdminSetUserSettings's params."""

from typing import Literal

from cognito_workers.params import AttributeNameType, CognitoShape, UserParams


class MFAOptionType(CognitoShape):
    DeliveryMedium: Literal["SMS", "EMAIL"] | None = None
    AttributeName: AttributeNameType | None = None


class AdminSetUserSettingsParams(UserParams):
    MFAOptions: list[MFAOptionType]
