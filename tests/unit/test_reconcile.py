"""Reconciliation without AWS: snapshots read as a stream (refused whole, or bad rows skipped with their
line), and the diff of a snapshot against a pool held in memory, for each kind of drift and each matching
rule."""

from __future__ import annotations

import datetime
import itertools
import json
import tracemalloc
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cognito_workers.lifecycle.events import parse_lifecycle_event
from cognito_workers.lifecycle.plans import Plan, plan_for
from cognito_workers.lifecycle.state import PersonState, Phase, PlanArrived, admission, transition
from cognito_workers.reconcile.diff import Differ, PersonDrift
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.pool import THROTTLED_TRIES, PacedReads, Pool, PoolUser
from cognito_workers.reconcile.snapshot import BadRow, Row, Snapshot, SnapshotRefused, format_of
from local_aws.context import cdk_context

TODAY = datetime.date(2026, 12, 1)
MORNING = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
NOON = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)
POLICY = ReconciliationPolicy.model_validate(cdk_context()["reconciliation"])
HEADER = "employeeId,email,givenName,groups,department\n"


def rows_of(text: str, snapshot_format: str = "csv") -> list[Row | BadRow]:
    return list(Snapshot(text.splitlines(keepends=True), snapshot_format, today=TODAY))  # type: ignore[arg-type]


def user(
    username: str, employee_id: str | None = None, *, enabled: bool = True, **attributes: str
) -> PoolUser:
    groups = set(attributes.pop("groups", "").split(";")) - {""}
    if employee_id is not None:
        attributes["custom:employeeId"] = employee_id
    return PoolUser(username, enabled, f"sub-{username}", attributes, groups)


def pool_of(*users: PoolUser) -> Pool:
    for pooled in users:
        pooled.unmanaged = POLICY.unmanaged_username(pooled.username) or pooled.unmanaged
    return Pool(users={u.username: u for u in users}, calls=Counter())


def diff(pool: Pool, snapshot: str, snapshot_format: str = "csv") -> tuple[list[PersonDrift], Counter[str]]:
    differ = Differ(pool, POLICY)
    return list(differ.diff(rows_of(snapshot, snapshot_format))), differ.counts


def current(employee_id: str, **attributes: str) -> dict[str, str]:
    """A pool user's attributes as the joiner of the row `employee_id,<id>@example.com,...` creates them."""
    return {"email": f"{employee_id.lower()}@example.com", "email_verified": "true", **attributes}


# --- Reading snapshots --------------------------------------------------------------------------------------
def test_a_csv_row_is_the_joiner_of_its_columns_and_other_columns_are_attributes() -> None:
    (row,) = rows_of(HEADER + "E1,e1@example.com,Ada,staff;engineering,R&D\n")

    assert isinstance(row, Row)
    assert row.line == 2
    assert row.username == "e1"
    assert row.joiner.groups == ["staff", "engineering"]
    assert row.joiner.attributes == {"department": "R&D"}
    assert row.joiner.send_invitation is False


def test_a_json_lines_row_is_the_joiners_detail_and_a_past_termination_date_is_a_leaver() -> None:
    text = "\n".join(
        json.dumps(record)
        for record in (
            {"employeeId": "E1", "email": "e1@example.com", "groups": ["staff"]},
            {"employeeId": "E2", "email": "e2@example.com", "terminationDate": "2026-11-30"},
            {"employeeId": "E3", "email": "e3@example.com", "terminationDate": "2027-01-31"},
        )
    )

    rows = rows_of(text, "jsonl")

    assert [(r.employee_id, r.terminated) for r in rows if isinstance(r, Row)] == [
        ("E1", False),
        ("E2", True),
        ("E3", False),  # leaves next month: still a current employee
    ]


@pytest.mark.parametrize(
    ("text", "snapshot_format", "line", "reason"),
    [
        ("employeeId,givenName\nE1,Ada\n", "csv", 1, "the header lacks the required column(s) email"),
        ("", "csv", 1, "empty"),
        ("employeeId,email,email\n", "csv", 1, "the header names email more than once"),
        ('employeeId,email\nE1,"e1@example.com\n', "csv", 2, "not readable as CSV"),
        ('{"employeeId": "E1", "email": "a@b.co"}\n{"employeeId": \n', "jsonl", 2, "not JSON"),
        ('{"employeeId": "E1", "email": "a@b.co"}\n["E2"]\n', "jsonl", 2, "not a JSON object"),
    ],
)
def test_a_snapshot_that_cannot_be_read_whole_is_refused_naming_the_line(
    text: str, snapshot_format: str, line: int, reason: str
) -> None:
    with pytest.raises(SnapshotRefused) as refusal:
        rows_of(text, snapshot_format)

    assert refusal.value.line == line
    assert refusal.value.reason.startswith(reason)


def test_a_file_name_says_the_format_or_is_refused() -> None:
    assert format_of("hr/2026-12-01.CSV") == "csv"
    assert format_of("roster.jsonl") == "jsonl"
    with pytest.raises(SnapshotRefused, match=r"a \.csv or a \.jsonl"):
        format_of("roster.xlsx")


def test_bad_rows_are_reported_with_their_line_and_reason_and_the_rest_read() -> None:
    rows = rows_of(
        HEADER
        + "E1,e1@example.com,Ada,staff,\n"
        + "E2,not-an-email,Bob,staff,\n"
        + "E1,other@example.com,Eve,staff,\n"
        + "E3,e3@example.com,Cy\n"
        + "E4,e4@example.com,Di,staff,\n"
    )

    bad = [(r.line, r.reason) for r in rows if isinstance(r, BadRow)]
    assert bad[0][0] == 3
    assert bad[0][1].startswith("email: String should match pattern")
    assert bad[1:] == [(4, "employeeId: 'E1' is already on line 2"), (5, "3 cells, the header has 5")]
    assert [r.employee_id for r in rows if isinstance(r, Row)] == ["E1", "E4"]


def test_two_rows_deriving_one_username_are_a_duplicate() -> None:
    rows = rows_of("employeeId,email\nab1,a@example.com\nAB1,b@example.com\n")

    assert isinstance(rows[1], BadRow)
    assert rows[1].reason == "username: 'ab1' is already on line 2"


def test_reading_is_a_stream_with_the_digest_of_what_was_read() -> None:
    lines = iter([HEADER, "E1,e1@example.com,Ada,staff,\n", "E2,e2@example.com,Bob,staff,\n"])
    snapshot = Snapshot(lines, "csv", today=TODAY)
    rows = iter(snapshot)

    next(rows)
    assert snapshot.rows == 1  # the second row is not read yet
    assert next(lines, None) is not None  # ...nor taken from the source
    other = Snapshot([HEADER, "E1,e1@example.com,Ada,staff,\n"], "csv", today=TODAY)
    list(other)
    list(rows)
    assert snapshot.digest == other.digest


# --- The diff -----------------------------------------------------------------------------------------------
def kinds(drifts: list[PersonDrift]) -> list[tuple[str, str | None]]:
    return [(drift.kind, drift.username) for drift in drifts]


def test_an_unchanged_pool_has_no_drift() -> None:
    pool = pool_of(user("e1", "E1", **current("E1", given_name="Ada", groups="staff")))

    drifts, counts = diff(pool, "employeeId,email,givenName,groups\nE1,e1@example.com,Ada,staff\n")

    assert drifts == []
    assert counts["unchanged"] == 1


def test_each_kind_of_drift_is_the_hr_event_that_repairs_it() -> None:
    pool = pool_of(
        user("e1", "E1", **current("E1", given_name="Ada", groups="staff")),  # edited by hand below
        user("e2", "E2", **current("E2", given_name="Bob", groups="staff;managers")),  # added to a group
        user("e3", "E3", enabled=False, **current("E3", given_name="Cy")),  # disabled, in the snapshot
        user("stray", None, email="stray@example.com"),  # in no row
        user("e5", "E5", **current("E5", given_name="Di", groups="staff")),  # a terminated row
    )
    snapshot = (
        "employeeId,email,givenName,groups,terminationDate\n"
        "E1,e1@example.com,Ada Lovelace,staff,\n"
        "E2,e2@example.com,Bob,staff,\n"
        "E3,e3@example.com,Cy,staff,\n"
        "E4,e4@example.com,New,engineering,\n"
        "E5,e5@example.com,Di,staff,2026-11-01\n"
    )

    drifts, counts = diff(pool, snapshot)

    assert kinds(drifts) == [
        ("mover", "e1"),
        ("mover", "e2"),
        ("rehire", "e3"),
        ("joiner", "e4"),
        ("leaver", "e5"),
        ("leaver", "stray"),
    ]
    by_user = {drift.username: drift for drift in drifts}
    assert by_user["e1"].detail == {
        "employeeId": "E1",
        "username": "e1",
        "attributes": {"given_name": "Ada Lovelace"},
    }
    assert by_user["e2"].detail == {"employeeId": "E2", "username": "e2", "groups": ["staff"]}
    assert by_user["e2"].changes == ("group -managers",)
    assert by_user["e3"].detail == {"employeeId": "E3", "username": "e3", "groups": ["staff"]}
    assert by_user["e4"].detail == {
        "employeeId": "E4",
        "email": "e4@example.com",
        "givenName": "New",
        "groups": ["engineering"],
        "sendInvitation": False,
    }
    assert by_user["stray"].detail == {"employeeId": "stray", "username": "stray"}
    # Every repair is a valid HR event for the planner
    for drift in drifts:
        assert drift.detail_type is not None
        assert drift.detail is not None
        parse_lifecycle_event(drift.detail_type, drift.detail)
    assert {kind: counts[kind] for kind in ("mover", "rehire", "joiner", "leaver")} == {
        "mover": 2,
        "rehire": 1,
        "joiner": 1,
        "leaver": 2,
    }


def test_groups_are_compared_only_when_the_snapshot_gives_them_and_only_the_managed_ones() -> None:
    pool = pool_of(user("e1", "E1", **current("E1", groups="staff")))

    no_groups_column, _ = diff(pool, "employeeId,email\nE1,e1@example.com\n")
    unmanaged_group_listed, _ = diff(pool, "employeeId,email,groups\nE1,e1@example.com,staff;auditors\n")

    assert no_groups_column == []
    assert unmanaged_group_listed == []


def test_users_that_predate_the_stack_are_linked_by_username_then_verified_email() -> None:
    pool = pool_of(
        user("e1", None, email="e1@example.com", email_verified="true"),
        user("ada.l", None, email="e2@example.com", email_verified="true"),
        user("bob", None, email="e3@example.com", email_verified="false"),
    )

    drifts, counts = diff(pool, "employeeId,email\nE1,e1@example.com\nE2,e2@example.com\nE3,e3@example.com\n")

    links = {drift.username: drift for drift in drifts if drift.kind == "mover"}
    assert set(links) == {"e1", "ada.l"}
    assert links["ada.l"].detail == {
        "employeeId": "E2",
        "username": "ada.l",
        "attributes": {"employeeId": "E2"},
    }
    assert links["ada.l"].changes == ("linked", "attribute employeeId")
    # An unverified email links nothing: E3 is a joiner, and the user bob a stray
    assert ("joiner", "e3") in kinds(drifts)
    assert ("leaver", "bob") in kinds(drifts)
    assert counts["linked"] == 2


@pytest.mark.parametrize(
    ("users", "snapshot", "reason"),
    [
        (
            [user("a", "E1"), user("b", "E1")],
            "employeeId,email\nE1,e1@example.com\n",
            "users a, b all carry employeeId E1",
        ),
        (
            [
                user("x", None, email="e1@example.com", email_verified="true"),
                user("y", None, email="e1@example.com", email_verified="true"),
            ],
            "employeeId,email\nE1,e1@example.com\n",
            "users x, y all match by verified email",
        ),
        (
            [user("e2", None, email="e1@example.com", email_verified="true")],
            "employeeId,email\nE1,e1@example.com\nE2,e2@example.com\n",
            "user e2 matches the rows on lines 2, 3",
        ),
        (
            [user("e1", "E9")],
            "employeeId,email\nE1,e1@example.com\nE9,e9@example.com,\n",
            "username e1 is taken by a user of E9",
        ),
    ],
)
def test_ambiguous_matches_are_reported_and_left_alone(
    users: list[PoolUser], snapshot: str, reason: str
) -> None:
    drifts, counts = diff(pool_of(*users), snapshot)

    ambiguous = [drift for drift in drifts if drift.kind == "ambiguous"]
    assert ambiguous
    assert all(drift.changes == (reason,) for drift in ambiguous)
    assert all(drift.detail is None for drift in ambiguous)
    assert counts["leaver"] == counts["joiner"] == counts["mover"] == 0


def test_unmanaged_users_are_never_touched() -> None:
    admin = user("root", "E1", **current("E1", given_name="Old"))
    admin.unmanaged = True  # a member of an unmanaged group
    pool = pool_of(admin, user("svc-backup", None), user("admin-ops", None, enabled=True))

    drifts, counts = diff(pool, "employeeId,email,givenName\nE1,e1@example.com,New\n")

    assert kinds(drifts) == [("unmanaged", "root")]
    assert counts["leaver"] == 0


def test_a_repairs_event_id_is_the_snapshot_and_the_person_as_found() -> None:
    pool = pool_of(user("stray", None))
    (drift,), _ = diff(pool, "employeeId,email\n")
    (again,), _ = diff(pool_of(user("stray", None)), "employeeId,email\n")
    recreated = user("stray", None)
    recreated.sub = "sub-of-a-new-user"
    (other,), _ = diff(pool_of(recreated), "employeeId,email\n")

    assert drift.event_id("digest-1") == again.event_id("digest-1")
    assert drift.event_id("digest-1") != drift.event_id("digest-2")
    assert drift.event_id("digest-1") != other.event_id("digest-1")


def traced_peak_of_a_diff(people: int) -> int:
    """Python's peak allocation (tracemalloc) while a pool of `people` users is read and diffed against a
    snapshot of as many rows, streamed, all unchanged."""
    header = ["employeeId,email,groups\n"]
    rows = (f"E{number},e{number}@example.com,staff\n" for number in range(people))
    tracemalloc.start()
    try:
        pool = Pool(users={}, calls=Counter())
        for number in range(people):
            pool.add(user(f"e{number}", f"E{number}", **current(f"E{number}", groups="staff")))
        differ = Differ(pool, POLICY)
        drifts = list(differ.diff(Snapshot(itertools.chain(header, rows), "csv", today=TODAY)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert drifts == []
    assert differ.counts["unchanged"] == people
    return peak


def test_memory_does_not_grow_with_the_pool_or_the_snapshot() -> None:
    small, large = traced_peak_of_a_diff(500), traced_peak_of_a_diff(5_000)

    # The index held in memory before took 1.2 KB per user here: 5.4 MB more for the larger
    assert large - small < 1_000_000


class ThrottlingCognito:
    """ListUsers answering one page after `throttles` TooManyRequestsException, as left by the client's own
    retries."""

    def __init__(self, throttles: int) -> None:
        self.throttles = throttles
        self.tries = 0

    def list_users(self, **params: Any) -> dict[str, Any]:
        self.tries += 1
        if self.tries <= self.throttles:
            error = {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}
            raise ClientError(error, "ListUsers")  # type: ignore[arg-type]
        return {"Users": [{"Username": "e1"}]}


def test_a_read_still_throttled_waits_for_its_next_token_and_is_tried_again_up_to_a_limit() -> None:
    recovers, gives_up = ThrottlingCognito(THROTTLED_TRIES - 1), ThrottlingCognito(THROTTLED_TRIES)

    reads = PacedReads(recovers)  # type: ignore[arg-type]
    assert list(reads.pages("ListUsers", "PaginationToken", UserPoolId="p")) == [[{"Username": "e1"}]]
    assert reads.calls == {"ListUsers": THROTTLED_TRIES}
    with pytest.raises(ClientError, match="Rate exceeded"):
        list(PacedReads(gives_up).pages("ListUsers", "PaginationToken", UserPoolId="p"))  # type: ignore[arg-type]
    assert (recovers.tries, gives_up.tries) == (THROTTLED_TRIES, THROTTLED_TRIES)


# --- Repairs in the planner ---------------------------------------------------------------------------------
def hr_plan(detail_type: str, plan_id: str, at: datetime.datetime, **detail: Any) -> Plan:
    event = parse_lifecycle_event(detail_type, {"employeeId": "E1", "username": "ada", **detail})
    return plan_for(event, plan_id=plan_id, event_time=at, repair=plan_id.startswith("reconcile-"))


@pytest.mark.parametrize(
    ("repair_at", "expected"),
    [(NOON + datetime.timedelta(hours=1), "start"), (NOON, "start"), (MORNING, "stale")],
)
def test_a_repair_is_stale_only_behind_a_plan_of_a_later_event_whatever_the_sequences(
    repair_at: datetime.datetime, expected: str
) -> None:
    # Given a person whose last plan, of an HR event with a sequence, started and ended
    state, _ = transition(
        PersonState(username="ada"),
        PlanArrived(hr_plan("EmployeeUpdated", "hr-1", NOON, groups=["staff"], sequence=7)),
        leaver_admitted=True,
    )
    state = state.model_copy(update={"phase": Phase.IDLE, "active": None})
    # When a reconciliation's repair (no sequence) arrives
    repair = hr_plan("EmployeeOffboarded", "reconcile-1", repair_at)

    # Then it starts unless that plan's event came after the repair's
    assert admission(state, repair) == expected
    assert (
        admission(state, hr_plan("EmployeeOffboarded", "hr-2", repair_at)) == "stale"
    )  # an HR event would be
