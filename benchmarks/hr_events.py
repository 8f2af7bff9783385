"""The HR events the benchmarks publish to a local deployment, as the HR system sends them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from local_aws.deployment import HR_SOURCE, LocalDeployment
from operator_cli.app import hr_entries
from operator_cli.hr_files import HrEventRecord


def joiner(username: str, employee_id: str) -> HrEventRecord:
    """A joiner in the staff group, without an invitation."""
    return HrEventRecord(
        "EmployeeOnboarded",
        {
            "employeeId": employee_id,
            "username": username,
            "email": f"{username}@example.com",
            "groups": ["staff"],
            "sendInvitation": False,
        },
    )


def leaver(username: str) -> HrEventRecord:
    return HrEventRecord("EmployeeOffboarded", {"employeeId": username.upper(), "username": username})


def entries(deployment: LocalDeployment, records: Sequence[HrEventRecord]) -> list[dict[str, Any]]:
    """PutEvents entries of `records` on the deployment's bus."""
    return hr_entries(records, deployment.event_bus_name, HR_SOURCE)
