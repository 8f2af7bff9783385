"""AdminAddUserToGroup's params."""

from cognito_workers.params import GroupMembershipParams


class AdminAddUserToGroupParams(GroupMembershipParams):
    pass
