"""AdminEnableUser's params."""

from cognito_workers.params import UserParams


class AdminEnableUserParams(UserParams):
    pass
