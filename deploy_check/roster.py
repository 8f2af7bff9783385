"""A small HR roster through the deployed planner: a joiner with groups, a mover, a leaver deleted at once, a
leaver rehired once the leaving completed and one rehired right behind the leaver (each scheduled deletion
cancelled), a malformed HR event; and poison commands straight onto an
action's queue. Then the pool's end state per person."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from chaos.scenarios import POISON_ACTION, POISON_COMMANDS
from deploy_check.outcomes import Event, summary
from deploy_check.report import Check
from local_aws.roster import ExpectedUser
from operator_cli.app import hr_entries, put_events_in_batches
from operator_cli.hr_files import HrEventRecord

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

SETTLE_TIMEOUT_SECONDS = 180
PLAN_ENDINGS = frozenset({"PlanCompleted", "PlanFailed", "PlanSkipped", "PlanStalled"})


def _joiner(username: str, groups: list[str], department: str) -> HrEventRecord:
    return HrEventRecord(
        "EmployeeOnboarded",
        {
            "employeeId": username.upper(),
            "username": username,
            "email": f"{username}@example.com",
            "groups": groups,
            "attributes": {"department": department},
            "sendInvitation": False,
            "sequence": 1,
        },
    )


def _person_event(detail_type: str, username: str, sequence: int, **fields: object) -> HrEventRecord:
    return HrEventRecord(
        detail_type, {"employeeId": username.upper(), "username": username, "sequence": sequence, **fields}
    )


ROSTER = (
    _joiner("alice", ["engineering", "staff"], "engineering"),
    _joiner("bob", ["staff"], "sales"),
    _person_event(
        "EmployeeUpdated", "bob", 2, groups=["managers", "staff"], attributes={"department": "finance"}
    ),
    _joiner("carol", ["contractors"], "legal"),
    _person_event("EmployeeOffboarded", "carol", 2, deleteAfterDays=0),
    _joiner("dave", ["engineering"], "engineering"),
    _person_event("EmployeeOffboarded", "dave", 2, deleteAfterDays=30),
    # Rehired in the same breath: the rehire waits behind the leaver and starts in the transition that
    # schedules the leaver's deletion, which must then be cancelled, not left behind.
    _joiner("erin", ["staff"], "legal"),
    _person_event("EmployeeOffboarded", "erin", 2, deleteAfterDays=30),
    _person_event("EmployeeRehired", "erin", 3, groups=["staff"]),
)
# Published once dave's leaver plan has completed (its deletion scheduled), as a rehire follows a leaving.
REHIRED = "dave"
REHIRE = _person_event("EmployeeRehired", REHIRED, 3, groups=["engineering", "managers"])
MALFORMED = HrEventRecord("EmployeeOnboarded", {"employeeId": "BAD1", "sendInvitation": False})  # no email
EXPECTED_POOL: dict[str, ExpectedUser | None] = {
    "alice": ExpectedUser(groups={"engineering", "staff"}, attributes={"custom:department": "engineering"}),
    "bob": ExpectedUser(groups={"managers", "staff"}, attributes={"custom:department": "finance"}),
    "carol": None,
    "dave": ExpectedUser(groups={"engineering", "managers"}, attributes={"custom:department": "engineering"}),
    "erin": ExpectedUser(groups={"staff"}, attributes={"custom:department": "legal"}),
}


def publish(events: EventBridgeClient, bus: str, records: list[HrEventRecord]) -> int:
    """HR events on the bus, as the HR system sends them; how many the bus refused."""
    return put_events_in_batches(events, hr_entries(records, bus))


def leaver_completed(username: str) -> Callable[[list[Event]], bool]:
    return lambda events: any(
        event["detail-type"] == "PlanCompleted"
        and event["detail"].get("username") == username
        and event["detail"].get("eventType") == "EmployeeOffboarded"
        for event in events
    )


def send_poison(sqs: SQSClient, queue_url: str) -> set[str]:
    """The chaos scenarios' poison commands, straight onto the queue; their message ids."""
    return {sqs.send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"] for body in POISON_COMMANDS}


def plan_endings(events: list[Event]) -> Counter[str]:
    """The plans that ended, by how: plans, not audit events, since one plan's audit may arrive twice (the
    planner publishes a transition's outbox again when the invocation that published it did not clear it,
    as a concurrent transition of the same person does; queues deliver at least once)."""
    ended = {(event["detail-type"], event["detail"].get("planId")) for event in events}
    return Counter(kind for kind, _ in ended if kind in PLAN_ENDINGS)


def roster_settled(poison_message_ids: set[str]) -> Callable[[list[Event]], bool]:
    """Whether every plan, the malformed event and every poison command have ended, from the events read."""

    def settled(events: list[Event]) -> bool:
        kinds = Counter(event["detail-type"] for event in events)
        poisoned = {event["detail"].get("messageId") for event in events} & poison_message_ids
        return (
            sum(plan_endings(events).values()) >= len(ROSTER) + 1  # the rehire
            and kinds["LifecycleEventRejected"] >= 1
            and poisoned == poison_message_ids
        )

    return settled


def outcome_checks(events: list[Event], poison_message_ids: set[str]) -> list[Check]:
    rejections = [event for event in events if event["detail-type"] == "LifecycleEventRejected"]
    poison = Counter(
        event["detail-type"] for event in events if event["detail"].get("messageId") in poison_message_ids
    )
    return [
        Check.compare(
            "roster: plans ended", counted({"PlanCompleted": len(ROSTER) + 1}), counted(plan_endings(events))
        ),
        Check.compare(
            "roster: malformed HR event",
            "LifecycleEventRejected (InvalidEvent)",
            "; ".join(summary(event) for event in rejections) or "no outcome",
        ),
        Check.compare(
            f"poison commands on the {POISON_ACTION} queue",
            counted({"ActionRejected": len(POISON_COMMANDS)}),
            counted(poison),
        ),
    ]


def counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{number} {kind}" for kind, number in sorted(counts.items()) if number) or "none"


def describe_user(user: ExpectedUser | None) -> str:
    if user is None:
        return "deleted"
    text = f"{'enabled' if user.enabled else 'disabled'}; groups {', '.join(sorted(user.groups)) or '(none)'}"
    return "; ".join([text, *(f"{name}={value}" for name, value in sorted(user.attributes.items()))])


def actual_user(
    cognito: CognitoIdentityProviderClient, user_pool_id: str, username: str, attributes: set[str]
) -> ExpectedUser | None:
    """The user as the pool holds it, with the `attributes` named (the others are not compared)."""
    try:
        user = cognito.admin_get_user(UserPoolId=user_pool_id, Username=username)
    except cognito.exceptions.UserNotFoundException:
        return None
    groups = cognito.admin_list_groups_for_user(UserPoolId=user_pool_id, Username=username)["Groups"]
    values = {item["Name"]: item.get("Value", "") for item in user.get("UserAttributes", [])}
    return ExpectedUser(
        enabled=user["Enabled"],
        groups={group["GroupName"] for group in groups},
        attributes={name: values[name] for name in attributes if name in values},
    )


def pool_checks(cognito: CognitoIdentityProviderClient, user_pool_id: str) -> list[Check]:
    checks = []
    for username, expected in EXPECTED_POOL.items():
        wanted = set(expected.attributes) if expected else set()
        actual = actual_user(cognito, user_pool_id, username, wanted)
        checks.append(Check.compare(f"pool: {username}", describe_user(expected), describe_user(actual)))
    return checks
