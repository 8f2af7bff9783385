"""deploy-check's result table and the descriptions its rows compare."""

from __future__ import annotations

from deploy_check.outcomes import summary
from deploy_check.report import Check, Verdict, failed, render
from deploy_check.roster import counted, describe_user
from local_aws.roster import ExpectedUser


def test_a_row_is_ok_only_when_expected_and_actual_agree() -> None:
    assert Check.compare("a", 3, 3).verdict is Verdict.OK
    assert Check.compare("a", "3", 3).verdict is Verdict.FAILED  # the values are compared, not their text
    assert Check.compare("a", {"x", "y"}, {"y", "x"}) == Check("a", "x, y", "x, y", Verdict.OK)
    assert Check.compare("a", 3, 4).verdict is Verdict.FAILED


def test_a_known_gap_is_shown_but_is_not_a_failure() -> None:
    checks = [Check.gap("tour: AdminGetDevice", "not sent: no such action"), Check.compare("b", 1, 2)]

    assert [check.name for check in failed(checks)] == ["b"]
    assert checks[0].verdict.value == "gap"


def test_the_table_aligns_its_columns_and_cuts_long_cells() -> None:
    # Given a short row and one whose actual value is too long
    checks = [Check.compare("deploy", 281, 281), Check.compare("pool: alice", "enabled", "x" * 30)]

    # When rendered at 10 characters a cell
    lines = render(checks, max_width=10).splitlines()

    # Then a header, a rule and one aligned line per check, long cells cut
    assert lines[0].split(" | ") == ["check     ", "expected", "actual    ", "ok"]
    assert set(lines[1]) == {"-", "+"}
    assert lines[3] == "pool: a... | enabled  | xxxxxxx... | FAIL"
    assert len({line.index("|") for line in lines if "|" in line}) == 1


def test_a_user_is_described_by_state_groups_and_the_attributes_compared() -> None:
    assert describe_user(None) == "deleted"
    assert describe_user(ExpectedUser(enabled=False)) == "disabled; groups (none)"
    assert (
        describe_user(ExpectedUser(groups={"staff", "eng"}, attributes={"custom:department": "x"}))
        == "enabled; groups eng, staff; custom:department=x"
    )


def test_counts_and_outcomes_are_summarized_without_results() -> None:
    assert counted({"PlanFailed": 0, "PlanCompleted": 8}) == "8 PlanCompleted"
    assert counted({}) == "none"
    event = {"detail-type": "ActionSucceeded", "detail": {"result": {"AuthenticationResult": "token"}}}
    assert summary(event) == "ActionSucceeded"
    rejected = {
        "detail-type": "ActionRejected",
        "detail": {"error": {"code": "InvalidCommand", "message": "m"}},
    }
    assert summary(rejected) == "ActionRejected (InvalidCommand)"
    assert summary(None) == "no outcome"
