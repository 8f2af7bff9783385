"""AdminConfirmSignUp's params."""

from cognito_workers.params import StringMapType, UserParams


class AdminConfirmSignUpParams(UserParams):
    ClientMetadata: StringMapType | None = None
