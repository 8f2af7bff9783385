"""The CLI's local commands, run as an operator runs them: in a process of their own, with their own local AWS
(moto keeps one state per process, so they cannot share the test session's)."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_aws.deployment import PREFIX
from local_aws.server import REGION
from operator_cli.local import SERVING

CLI = [sys.executable, "-m", "operator_cli"]
STARTUP_SECONDS = 60


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=_environment())


def _environment() -> dict[str, str]:
    """The operator's environment: no endpoint of the test session's local AWS."""
    return {name: value for name, value in os.environ.items() if name != "AWS_ENDPOINT_URL"} | {
        "COLUMNS": "200"
    }


def test_demo_runs_a_roster_and_verifies_the_pool() -> None:
    result = run_cli("demo", "--joiners", "12")

    assert result.returncode == 0, result.stderr
    assert "the pool matches the roster: 12 people checked" in result.stdout
    assert "AdminCreateUser" in result.stdout
    assert "commands/s" in result.stdout


def test_run_drains_a_file_on_a_fresh_local_aws(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "type,employeeId,username,email,groups,sendInvitation,deleteAfterDays\n"
        "EmployeeOnboarded,E1,ada,ada@example.com,staff,false,\n"
        "EmployeeOffboarded,E1,ada,,,,0\n"
    )

    result = run_cli("run", str(roster))

    assert result.returncode == 0, result.stderr
    assert "AdminDeleteUser" in result.stdout
    assert "2 HR events drained" in result.stdout


def outside_client(service: str, endpoint: str) -> Any:
    """A client of another process, as the AWS CLI would be: any credentials, the served endpoint."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def served() -> Iterator[str]:
    """`cognito-lifecycle serve` in a process of its own, once it says it is serving; stopped with Ctrl-C."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A test run started in the background by a non-interactive shell ignores SIGINT, and the processes it
    # starts inherit that; an operator's terminal delivers Ctrl-C. A handler is reset to the default on exec.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_environment(),
        )
    finally:
        signal.signal(signal.SIGINT, inherited)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while SERVING not in (line := _next_line(lines, deadline)):
        if not line:
            process.kill()
            pytest.fail(f"serve did not come up: {process.communicate()[1][-2000:]}")
    yield f"http://127.0.0.1:{port}"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0


def _next_line(lines: queue.Queue[str], deadline: float) -> str:
    try:
        return lines.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        return ""


def test_serve_lets_any_aws_client_drive_the_pipeline(served: str) -> None:
    events = outside_client("events", served)
    cognito = outside_client("cognito-idp", served)

    events.put_events(
        Entries=[
            {
                "EventBusName": f"{PREFIX}-bus",
                "Source": "hr.system",
                "DetailType": "EmployeeOnboarded",
                "Detail": json.dumps(
                    {
                        "employeeId": "E77",
                        "email": "e77@example.com",
                        "groups": ["staff"],
                        "sendInvitation": False,
                    }
                ),
            }
        ]
    )

    (pool,) = cognito.list_user_pools(MaxResults=10)["UserPools"]
    deadline = time.monotonic() + 60
    groups: list[str] = []
    while time.monotonic() < deadline and groups != ["staff"]:
        time.sleep(0.5)
        try:
            answer = cognito.admin_list_groups_for_user(UserPoolId=pool["Id"], Username="e77")
            groups = [group["GroupName"] for group in answer["Groups"]]
        except ClientError:
            continue
    assert groups == ["staff"]
    status = run_cli("status", "--endpoint-url", served, timeout=60)
    assert status.returncode == 0, status.stderr
    assert "LifecyclePlanner" in status.stdout
