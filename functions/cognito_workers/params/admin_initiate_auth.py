"""AdminInitiateAuth's params."""

from typing import Literal

from cognito_workers.params import ActionParams, StringMapType
from cognito_workers.params.auth import AnalyticsMetadataType, ClientIdType, ContextDataType, SessionType

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


class AdminInitiateAuthParams(ActionParams):
    ClientId: ClientIdType
    AuthFlow: AuthFlowType
    AuthParameters: StringMapType | None = None
    ClientMetadata: StringMapType | None = None
    AnalyticsMetadata: AnalyticsMetadataType | None = None
    ContextData: ContextDataType | None = None
    Session: SessionType | None = None
