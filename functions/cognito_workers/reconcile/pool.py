"""Reading the pool for a reconciliation: ListUsers pages, then ListUsersInGroup for each managed and each
unmanaged group, never one call per user, each call paced under its quota category."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cognito_workers.catalog import RECONCILER
from cognito_workers.errors import error_code
from cognito_workers.lifecycle.events import EMPLOYEE_ID_ATTRIBUTE
from cognito_workers.pacing import TokenBucket
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.scratch import scratch_database

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

PAGE_SIZE = 60  # the most ListUsers and ListUsersInGroup return at once
# A call still throttled after the client's own retries waits for its next token and is tried again, up to
# this many times: the rest of the account shares the quota, and a run reads for minutes.
THROTTLED_TRIES = 5
# Attributes no snapshot speaks of: not kept.
_NOT_KEPT = frozenset({"sub", "cognito:user_status"})
_GROUP_END = "\n"  # ends each group name in the users' `groups`: no group name holds one
_SCHEMA = """
CREATE TABLE users (
    username TEXT PRIMARY KEY, enabled BOOLEAN, sub TEXT, attributes TEXT, groups TEXT, unmanaged BOOLEAN,
    employee_id TEXT, verified_email TEXT, matched BOOLEAN
);
CREATE INDEX users_by_employee_id ON users (employee_id) WHERE employee_id IS NOT NULL;
CREATE INDEX users_by_verified_email ON users (verified_email) WHERE verified_email IS NOT NULL;
"""


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


class Pool:
    """The pool's users as read, with the lookups matching needs and the users its Differ's rows have matched,
    in a scratch database (scratch.py): its memory does not grow with the pool."""

    def __init__(self, users: Mapping[str, PoolUser], calls: Counter[str]) -> None:
        self.calls = calls
        self._database = scratch_database(self, _SCHEMA)
        for user in users.values():
            self.add(user)

    def add(self, user: PoolUser) -> None:
        """A user as listed; listed again, its latest state in its first place."""
        email = user.verified_email  # only users without the id are matched by email
        self._database.execute(
            "INSERT INTO users VALUES (:username, :enabled, :sub, :attributes, :groups, :unmanaged, "
            ":employee_id, :email, FALSE) ON CONFLICT (username) DO UPDATE SET enabled = :enabled, "
            "sub = :sub, attributes = :attributes, groups = :groups, unmanaged = :unmanaged, "
            "employee_id = :employee_id, verified_email = :email",
            {
                "username": user.username,
                "enabled": user.enabled,
                "sub": user.sub,
                "attributes": json.dumps(user.attributes),
                "groups": "".join(group + _GROUP_END for group in user.groups),
                "unmanaged": user.unmanaged,
                "employee_id": user.employee_id,
                "email": email.lower() if user.employee_id is None and email is not None else None,
            },
        )

    def add_to_group(self, username: str, group: str) -> None:
        self._database.execute(
            "UPDATE users SET groups = groups || ? WHERE username = ?", (group + _GROUP_END, username)
        )

    def mark_unmanaged(self, username: str) -> None:
        self._database.execute("UPDATE users SET unmanaged = TRUE WHERE username = ?", (username,))

    def user(self, username: str) -> PoolUser | None:
        return next(self._users("username = ?", username), None)

    def with_employee_id(self, employee_id: str) -> list[PoolUser]:
        return list(self._users("employee_id = ?", employee_id))

    def with_verified_email(self, email: str) -> list[PoolUser]:
        """The users without an employeeId whose verified email is `email` (lower case)."""
        return list(self._users("verified_email = ?", email))

    def forget_matches(self) -> None:
        self._database.execute("UPDATE users SET matched = FALSE")

    def match(self, usernames: Iterable[str]) -> None:
        self._database.executemany(
            "UPDATE users SET matched = TRUE WHERE username = ?", [(name,) for name in usernames]
        )

    def unmatched(self) -> Iterator[PoolUser]:
        """The users no row has matched, in the order they were listed."""
        return self._users("NOT matched")

    @property
    def managed_users(self) -> int:
        (count,) = self._database.execute("SELECT count(*) FROM users WHERE NOT unmanaged").fetchone()
        return int(count)

    def _users(self, condition: str, *parameters: str) -> Iterator[PoolUser]:
        for username, enabled, sub, attributes, groups, unmanaged in self._database.execute(
            "SELECT username, enabled, sub, attributes, groups, unmanaged FROM users "
            f"WHERE {condition} ORDER BY rowid",
            parameters,
        ):
            yield PoolUser(
                username,
                bool(enabled),
                sub,
                json.loads(attributes),
                set(groups.split(_GROUP_END)) - {""},
                bool(unmanaged),
            )


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
        token: str | None = None
        while True:
            answer = self._call(
                operation, **params, Limit=PAGE_SIZE, **({token_name: token} if token else {})
            )
            yield answer["Users"]
            token = answer.get(token_name)
            if not token:
                return

    def _call(self, operation: str, **params: Any) -> Any:
        method = getattr(self._cognito, "list_users" if operation == "ListUsers" else "list_users_in_group")
        bucket = self._buckets[RECONCILER.reads[operation]]
        throttled = 0
        while True:
            bucket.wait(self._sleep)
            self.calls[operation] += 1
            try:
                return method(**params)
            except ClientError as error:
                throttled += 1
                if error_code(error) != "TooManyRequestsException" or throttled == THROTTLED_TRIES:
                    raise


def read_pool(reads: PacedReads, *, user_pool_id: str, policy: ReconciliationPolicy) -> Pool:
    pool = Pool(users={}, calls=reads.calls)
    for page in reads.pages("ListUsers", "PaginationToken", UserPoolId=user_pool_id):
        for listed in page:
            user = _pool_user(listed)
            user.unmanaged = policy.unmanaged_username(user.username)
            pool.add(user)
    # A member listed by no page (created since) is not in the pool and not updated.
    for group in policy.managed_groups:
        for username in _members(reads, user_pool_id, group):
            pool.add_to_group(username, group)
    for group in policy.unmanaged_groups:
        for username in _members(reads, user_pool_id, group):
            pool.mark_unmanaged(username)
    return pool


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
