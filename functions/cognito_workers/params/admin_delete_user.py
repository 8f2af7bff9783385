"""AdminDeleteUser's params."""

from cognito_workers.params import UserParams


class AdminDeleteUserParams(UserParams):
    pass
