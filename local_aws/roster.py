"""A generated HR roster for the demo: joiners, then movers and leavers among them, a few malformed events;
and the pool's expected end state, so that the demo can check what the pipeline did."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from operator_cli.hr_files import HrEventRecord

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

DEPARTMENTS = ("engineering", "sales", "finance", "people", "legal")


@dataclass
class ExpectedUser:
    enabled: bool = True
    groups: set[str] = field(default_factory=set)
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Roster:
    events: list[HrEventRecord]
    expected: dict[str, ExpectedUser | None]  # None: the user must not exist
    malformed: int


def generate_roster(
    joiners: int, *, groups: tuple[str, ...], seed: int, mover_share: float = 0.2, leaver_share: float = 0.1
) -> Roster:
    """Joiners in one to three groups, then a share of them moving (groups and department change) and a
    share leaving (half deleted at once, half after 30 days); then events that must be rejected. Each
    person's events carry an increasing `sequence`, as an HR system should send them."""
    rng = random.Random(seed)
    events: list[HrEventRecord] = []
    expected: dict[str, ExpectedUser | None] = {}
    people = [f"emp{number:05d}" for number in range(joiners)]

    def placement() -> tuple[list[str], str]:
        """One to three groups and a department, and the user the pool must then hold."""
        chosen = sorted(rng.sample(groups, rng.randint(1, min(3, len(groups)))))
        department = rng.choice(DEPARTMENTS)
        expected[username] = ExpectedUser(groups=set(chosen), attributes={"custom:department": department})
        return chosen, department

    for username in people:
        chosen, department = placement()
        events.append(
            HrEventRecord(
                "EmployeeOnboarded",
                {
                    "employeeId": username.upper(),
                    "username": username,
                    "email": f"{username}@example.com",
                    "givenName": username.capitalize(),
                    "groups": chosen,
                    "attributes": {"department": department},
                    "sendInvitation": False,
                    "sequence": 1,
                },
            )
        )
    for username in rng.sample(people, int(joiners * mover_share)):
        chosen, department = placement()
        events.append(
            HrEventRecord(
                "EmployeeUpdated",
                {
                    "employeeId": username.upper(),
                    "username": username,
                    "groups": chosen,
                    "attributes": {"department": department},
                    "sequence": 2,
                },
            )
        )
    for number, username in enumerate(rng.sample(people, int(joiners * leaver_share))):
        delete_now = number % 2 == 0
        events.append(
            HrEventRecord(
                "EmployeeOffboarded",
                {
                    "employeeId": username.upper(),
                    "username": username,
                    "deleteAfterDays": 0 if delete_now else 30,
                    "sequence": 3,
                },
            )
        )
        expected[username] = None if delete_now else ExpectedUser(enabled=False)
    malformed = [
        HrEventRecord("EmployeeOnboarded", {"employeeId": "BAD1", "sendInvitation": True}),  # no email
        HrEventRecord(
            "EmployeeOnboarded", {"employeeId": "BAD2", "email": "not-an-email", "sendInvitation": True}
        ),
        HrEventRecord("EmployeeUpdated", {"employeeId": "BAD3", "username": "emp00000", "groups": "staff"}),
        HrEventRecord("EmployeeOffboarded", {"employeeId": "BAD4", "username": "x", "deleteAfterDays": -1}),
        HrEventRecord("EmployeeOffboarded", {"employeeId": "BAD5", "username": "y", "fireEveryone": True}),
    ]
    return Roster(events=events + malformed, expected=expected, malformed=len(malformed))


def verify_pool(
    cognito: CognitoIdentityProviderClient, user_pool_id: str, expected: dict[str, ExpectedUser | None]
) -> list[str]:
    """Every difference between the pool and the roster's expected end state, one line each."""
    actual = _users(cognito, user_pool_id)
    problems = []
    for username, want in expected.items():
        have = actual.get(username)
        if want is None:
            if have is not None:
                problems.append(f"{username}: should be deleted, still exists")
            continue
        if have is None:
            problems.append(f"{username}: missing")
            continue
        if have["enabled"] != want.enabled:
            problems.append(f"{username}: enabled={have['enabled']}, expected {want.enabled}")
        groups = _groups(cognito, user_pool_id, username)
        if groups != want.groups:
            problems.append(f"{username}: groups {sorted(groups)}, expected {sorted(want.groups)}")
        for name, value in want.attributes.items():
            if have["attributes"].get(name) != value:
                problems.append(f"{username}: {name}={have['attributes'].get(name)!r}, expected {value!r}")
    return problems


def _users(cognito: CognitoIdentityProviderClient, user_pool_id: str) -> dict[str, dict[str, Any]]:
    users: dict[str, dict[str, Any]] = {}
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=user_pool_id):
        for user in page["Users"]:
            users[user["Username"]] = {
                "enabled": user["Enabled"],
                "attributes": {a["Name"]: a.get("Value") for a in user.get("Attributes", [])},
            }
    return users


def _groups(cognito: CognitoIdentityProviderClient, user_pool_id: str, username: str) -> set[str]:
    pages = cognito.get_paginator("admin_list_groups_for_user").paginate(
        UserPoolId=user_pool_id, Username=username
    )
    return {group["GroupName"] for page in pages for group in page["Groups"]}
