"""Users to act on, created directly in the pool (not through the workers under test)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from local_aws.deployment import LocalDeployment

PASSWORD = "Initial-Passw0rd!"


@pytest.fixture
def user(cognito: Any, deployment: LocalDeployment, unique: Callable[[str], str]) -> str:
    """A fresh user with a verified email, a department and a temporary password."""
    username = unique("user")
    cognito.admin_create_user(
        UserPoolId=deployment.user_pool_id,
        Username=username,
        TemporaryPassword=PASSWORD,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": f"{username}@example.com"},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "custom:department", "Value": "finance"},
        ],
    )
    return username


@pytest.fixture
def signed_in_user(cognito: Any, deployment: LocalDeployment, user: str) -> str:
    """A user with a permanent password who can sign in."""
    cognito.admin_set_user_password(
        UserPoolId=deployment.user_pool_id, Username=user, Password=PASSWORD, Permanent=True
    )
    return user
