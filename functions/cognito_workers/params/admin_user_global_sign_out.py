"""AdminUserGlobalSignOut's params."""

from cognito_workers.params import UserParams


class AdminUserGlobalSignOutParams(UserParams):
    pass
