"""AdminResetUserPassword's params."""

from cognito_workers.params import StringMapType, UserParams


class AdminResetUserPasswordParams(UserParams):
    ClientMetadata: StringMapType | None = None
