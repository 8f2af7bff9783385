"""The IAM the template grants is what the code calls: the action tour and a small roster on a local AWS of
their own, every call checked against the calling function's role."""

from __future__ import annotations

import os
import re
from pathlib import Path
from unittest import mock

import pytest

from cognito_workers.catalog import ACTIONS
from cognito_workers.observability import logger
from local_aws.iam_check import FunctionAccess, access_after_the_tour_and_a_roster

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def report() -> dict[str, FunctionAccess]:
    # The run's local AWS is exported while it runs, and the workers quieted (quiet_local_workers); both are
    # undone after, for the tests that run next in this process.
    level = logger.log_level
    with mock.patch.dict(os.environ):
        try:
            return {access.function: access for access in access_after_the_tour_and_a_roster()}
        finally:
            logger.setLevel(level)


def test_every_call_a_function_made_is_allowed_by_its_role(report: dict[str, FunctionAccess]) -> None:
    assert {name: access.refused for name, access in report.items() if access.refused} == {}


def test_every_action_granted_was_called_or_says_why_not(report: dict[str, FunctionAccess]) -> None:
    assert {name: access.unexplained for name, access in report.items() if access.unexplained} == {}


def test_every_worker_called_its_own_cognito_action_and_no_other(report: dict[str, FunctionAccess]) -> None:
    for spec in ACTIONS:
        called = {action for action in report[spec.name].called if action.startswith("cognito-idp:")}
        assert called == {f"cognito-idp:{spec.name}"}


def test_the_readme_table_lists_every_function_with_what_its_role_grants(
    report: dict[str, FunctionAccess],
) -> None:
    table = README.read_text().split("<!-- iam-table -->")[1].split("<!-- /iam-table -->")[0]
    rows = {
        cells[0]: set(re.findall(r"[a-z0-9-]+:[A-Za-z*]+", " ".join(cells[1:])))
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| function")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    assert rows == {name: set(access.granted) for name, access in report.items()}
