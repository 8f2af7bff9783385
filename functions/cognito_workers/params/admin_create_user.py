"""AdminCreateUser's params."""

from typing import Annotated, Literal

from pydantic import StringConstraints

from cognito_workers.params import AttributeType, StringMapType, UserParams

PasswordType = Annotated[str, StringConstraints(max_length=256, pattern=r"^\S+$")]


class AdminCreateUserParams(UserParams):
    UserAttributes: list[AttributeType] | None = None
    ValidationData: list[AttributeType] | None = None
    TemporaryPassword: PasswordType | None = None
    ForceAliasCreation: bool | None = None
    MessageAction: Literal["RESEND", "SUPPRESS"] | None = None
    DesiredDeliveryMediums: list[Literal["SMS", "EMAIL"]] | None = None
    ClientMetadata: StringMapType | None = None
