"""The CLI's local commands, run as an operator runs them: in a process of their own, with their own local AWS
(moto keeps one state per process, so they cannot share the test session's), stopped with Ctrl-C as a
terminal sends it: to the whole foreground process group."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws.deployment import PREFIX
from local_aws.server import REGION
from operator_cli.local import SERVING

CLI = [sys.executable, "-m", "operator_cli"]
STARTUP_SECONDS = 60


def _environment() -> dict[str, str]:
    """The operator's environment: no endpoint of the test session's local AWS."""
    return {name: value for name, value in os.environ.items() if name != "AWS_ENDPOINT_URL"} | {
        "COLUMNS": "200"
    }


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=_environment())


@dataclass
class Foreground:
    """A CLI process in a process group of its own, as a shell starts a foreground job; its output lines as
    they come."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str]

    @classmethod
    def start(cls, *args: str) -> Foreground:
        # A test run started in the background by a non-interactive shell ignores SIGINT, and the processes
        # it starts inherit that; a terminal's do not. A handler is reset to the default on exec.
        inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            process = subprocess.Popen(
                [*CLI, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_environment(),
                process_group=0,
            )
        finally:
            signal.signal(signal.SIGINT, inherited)
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []])
        reader.daemon = True
        reader.start()
        return cls(process, lines)

    def wait_for(self, text: str, seconds: float = STARTUP_SECONDS) -> list[str]:
        """The lines up to the first that holds `text`."""
        seen: list[str] = []
        deadline = time.monotonic() + seconds
        while not seen or text not in seen[-1]:
            try:
                seen.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                self.process.kill()
                pytest.fail(f"no {text!r} after {seen}: {self.process.communicate()[1][-2000:]}")
        return seen

    def interrupt(self) -> tuple[int, list[str], str]:
        """Ctrl-C: SIGINT to the process group. The exit code, the lines printed since, and standard error."""
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=60)
        assert self.process.stderr is not None
        time.sleep(0.1)  # the reader thread takes the last lines
        return code, list(iter(self._next_or_none, None)), self.process.stderr.read()

    def _next_or_none(self) -> str | None:
        try:
            return self.lines.get_nowait()
        except queue.Empty:
            return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.interrupt()


def test_run_drains_a_file_on_a_fresh_local_aws_and_shows_its_progress(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "type,employeeId,username,email,groups,sendInvitation,deleteAfterDays\n"
        "EmployeeOnboarded,E1,ada,ada@example.com,staff,false,\n"
        "EmployeeOffboarded,E1,ada,,,,0\n"
    )

    result = run_cli("run", str(roster))

    assert result.returncode == 0, result.stderr
    # Not a terminal: plain progress lines, the last when the drain ends.
    lines = result.stdout.splitlines()
    progress = [line for line in lines if line.startswith(("draining: ", "drained: "))]
    assert progress[-1].startswith("drained: ")
    assert " commands done, 0 waiting or in flight, 0 dead-lettered, " in progress[-1]
    assert progress[-1].endswith(" commands/s")
    assert "AdminDeleteUser" in result.stdout
    assert "2 HR events drained" in result.stdout
    assert re.search(
        r"time to lock-out, 1 leavers .*: p50 [\d.]+ s, p99 [\d.]+ s, max [\d.]+ s", result.stdout
    )


def outside_client(service: str, endpoint: str) -> Any:
    """A client of another process, as the AWS CLI would be: any credentials, the served endpoint."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(params=[()])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Foreground, str]]:
    """`cognito-lifecycle serve` (with the options given as the fixture's param) in the foreground, once it
    says it is serving, with its endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = Foreground.start("serve", "--port", str(port), *request.param)
    serve.wait_for(SERVING)
    yield serve, f"http://127.0.0.1:{port}"
    serve.stop()


def joiner_entry(employee_id: str) -> dict[str, str]:
    detail = {"employeeId": employee_id, "email": f"{employee_id}@example.com", "groups": ["staff"]}
    return {
        "EventBusName": f"{PREFIX}-bus",
        "Source": "hr.system",
        "DetailType": "EmployeeOnboarded",
        "Detail": json.dumps({**detail, "sendInvitation": False}),
    }


def test_serve_lets_any_aws_client_drive_the_pipeline_and_logs_each_audit_event(
    served: tuple[Foreground, str],
) -> None:
    serve, endpoint = served
    follow = Foreground.start("outcomes", "--follow", "--output", "json", "--endpoint-url", endpoint)
    try:
        (put,) = outside_client("events", endpoint).put_events(Entries=[joiner_entry("E77")])["Entries"]

        logged = serve.wait_for("PlanCompleted")
        followed = [json.loads(line) for line in follow.wait_for("PlanCompleted")]
    finally:
        code, _, follow_errors = follow.interrupt()

    plan = put["EventId"]  # the HR event's id: the plan's, and its steps' correlation id
    assert [line.split()[1] for line in logged] == [
        "PlanStarted",
        "ActionSucceeded",  # AdminCreateUser
        "ActionSucceeded",  # AdminAddUserToGroup
        "PlanCompleted",
    ]
    assert all(f"correlation={plan}" in line for line in logged)
    assert [event["detail-type"] for event in followed] == [line.split()[1] for line in logged]
    assert (code, follow_errors) == (0, "")
    status = run_cli("status", "--endpoint-url", endpoint, "--output", "json", timeout=60)
    assert status.returncode == 0, status.stderr
    assert {counts["inDlq"] for counts in json.loads(status.stdout)["functions"].values()} == {0}


@pytest.mark.parametrize("served", [("--quiet",)], indirect=True)
def test_quiet_serve_logs_the_plans_and_ctrl_c_stops_it_part_by_part_without_traceback(
    served: tuple[Foreground, str],
) -> None:
    serve, endpoint = served
    outside_client("events", endpoint).put_events(Entries=[joiner_entry("E78")])
    logged = serve.wait_for("PlanCompleted")

    code, lines, stderr = serve.interrupt()

    assert [line.split()[1] for line in logged] == ["PlanStarted", "PlanCompleted"]  # not each step
    assert code == 0
    assert [line.strip() for line in lines] == [
        "stopped the audit log",
        "stopped the pipeline",
        "stopped the local AWS",
    ]
    assert "Traceback" not in stderr
    port = int(endpoint.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass  # the local AWS stopped with it


def test_serve_on_a_port_in_use_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        finished = run_cli("serve", "--port", str(port), timeout=STARTUP_SECONDS)

    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines() == [
        f"error: the local AWS server did not start: 127.0.0.1:{port}: Address already in use"
        f" (while attempting to bind on address ('127.0.0.1', {port}))"
    ]
