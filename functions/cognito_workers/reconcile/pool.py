"""Reading the pool for a reconciliation: ListUsers pages, then ListUsersInGroup for each managed and each
unmanaged group, never one call per user, each call paced under its quota category."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cognito_workers.catalog import RECONCILER
from cognito_workers.errors import error_code
from cognito_workers.lifecycle.events import EMPLOYEE_ID_ATTRIBUTE
from cognito_workers.pacing import TokenBucket
from cognito_workers.reconcile.policy import ReconciliationPolicy

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

PAGE_SIZE = 60  # the most ListUsers and ListUsersInGroup return at once
# Attributes no snapshot speaks of: not kept, so that 100,000 users stay small in memory.
_NOT_KEPT = frozenset({"sub", "cognito:user_status"})


@dataclass(slots=True)
class PoolUser:
    username: str
    enabled: bool
    sub: str
    attributes: dict[str, str]
    groups: set[str] = field(default_factory=set)
    unmanaged: bool = False

    @property
    def employee_id(self) -> str | None:
        return self.attributes.get(EMPLOYEE_ID_ATTRIBUTE)

    @property
    def verified_email(self) -> str | None:
        verified = self.attributes.get("email_verified") == "true"
        return self.attributes.get("email") if verified else None


@dataclass
class Pool:
    """The pool's users by username, with the indexes matching needs."""

    users: dict[str, PoolUser]
    calls: Counter[str]

    def __post_init__(self) -> None:
        self.by_employee_id: dict[str, list[PoolUser]] = defaultdict(list)
        self.by_verified_email: dict[str, list[PoolUser]] = defaultdict(list)
        for user in self.users.values():
            if user.employee_id is not None:
                self.by_employee_id[user.employee_id].append(user)
            elif user.verified_email is not None:  # only users without the id are matched by email
                self.by_verified_email[user.verified_email.lower()].append(user)

    @property
    def managed_users(self) -> int:
        return sum(not user.unmanaged for user in self.users.values())


class PacedReads:
    """The reconciler's Cognito reads, each waiting for its quota category's token first; `scale` below 1
    leaves room for the rest of the account."""

    def __init__(
        self,
        cognito: CognitoIdentityProviderClient,
        *,
        scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._cognito = cognito
        self._buckets = {
            category: TokenBucket(category.requests_per_second * scale)
            for category in set(RECONCILER.reads.values())
        }
        self._sleep = sleep
        self.calls: Counter[str] = Counter()

    def pages(self, operation: str, token_name: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
        """Every page of a listing, following its pagination token."""
        method = getattr(self._cognito, "list_users" if operation == "ListUsers" else "list_users_in_group")
        bucket = self._buckets[RECONCILER.reads[operation]]
        token: str | None = None
        while True:
            bucket.wait(self._sleep)
            self.calls[operation] += 1
            answer = method(**params, Limit=PAGE_SIZE, **({token_name: token} if token else {}))
            yield answer["Users"]
            token = answer.get(token_name)
            if not token:
                return


def read_pool(reads: PacedReads, *, user_pool_id: str, policy: ReconciliationPolicy) -> Pool:
    users: dict[str, PoolUser] = {}
    for page in reads.pages("ListUsers", "PaginationToken", UserPoolId=user_pool_id):
        for listed in page:
            user = _pool_user(listed)
            user.unmanaged = policy.unmanaged_username(user.username)
            users[user.username] = user
    for group in policy.managed_groups:
        for username in _members(reads, user_pool_id, group):
            if username in users:
                users[username].groups.add(group)
    for group in policy.unmanaged_groups:
        for username in _members(reads, user_pool_id, group):
            if username in users:
                users[username].unmanaged = True
    return Pool(users=users, calls=reads.calls)


def _members(reads: PacedReads, user_pool_id: str, group: str) -> Iterator[str]:
    try:
        for page in reads.pages("ListUsersInGroup", "NextToken", UserPoolId=user_pool_id, GroupName=group):
            yield from (member["Username"] for member in page)
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        # A configured group the pool does not have has no members.


def _pool_user(listed: dict[str, Any]) -> PoolUser:
    attributes = {a["Name"]: a.get("Value", "") for a in listed.get("Attributes", [])}
    return PoolUser(
        username=listed["Username"],
        enabled=bool(listed.get("Enabled", True)),
        sub=attributes.get("sub", ""),
        attributes={name: value for name, value in attributes.items() if name not in _NOT_KEPT},
    )
