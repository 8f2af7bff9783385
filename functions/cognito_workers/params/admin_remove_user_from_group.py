"""AdminRemoveUserFromGroup's params."""

from cognito_workers.params import GroupMembershipParams


class AdminRemoveUserFromGroupParams(GroupMembershipParams):
    pass
