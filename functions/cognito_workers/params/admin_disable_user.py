"""AdminDisableUser's params."""

from cognito_workers.params import UserParams


class AdminDisableUserParams(UserParams):
    pass
