"""AdminGetUser's params."""

from cognito_workers.params import UserParams


class AdminGetUserParams(UserParams):
    pass
