"""AdminRespondToAuthChallenge's params."""

from typing import Literal

from cognito_workers.params import ActionParams, StringMapType
from cognito_workers.params.auth import AnalyticsMetadataType, ClientIdType, ContextDataType, SessionType

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


class AdminRespondToAuthChallengeParams(ActionParams):
    ClientId: ClientIdType
    ChallengeName: ChallengeNameType
    ChallengeResponses: StringMapType | None = None
    Session: SessionType | None = None
    AnalyticsMetadata: AnalyticsMetadataType | None = None
    ContextData: ContextDataType | None = None
    ClientMetadata: StringMapType | None = None
