"""What the two auth-flow actions' params share (AdminInitiateAuth, AdminRespondToAuthChallenge)."""

from typing import Annotated

from pydantic import StringConstraints

from cognito_workers.params import CognitoShape, LongStringType

ClientIdType = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\w+]+$")]
SessionType = Annotated[str, StringConstraints(min_length=20, max_length=4096)]


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
