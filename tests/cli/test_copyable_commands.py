"""The commands `serve` prints for copying work when pasted into a shell, whatever the terminal's width."""

from __future__ import annotations

import json
import subprocess

import pytest

from local_aws.deployment import LocalDeployment
from operator_cli import app
from operator_cli.local import client_commands, copyable


@pytest.mark.parametrize("columns", [40, 80])
def test_printed_commands_run_whole_in_a_shell(
    columns: int,
    deployment: LocalDeployment,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app.console, "width", columns)
    capsys.readouterr()
    for command in client_commands(deployment):
        copyable(command)
    export, put_events, outcomes = capsys.readouterr().out.splitlines()

    # The shell runs what was printed; `aws` and the CLI stand in as functions printing their arguments.
    script = f"""
        aws() {{ printf '%s\\n' "$@"; }}
        {export}
        bash -c 'echo "$AWS_ENDPOINT_URL $AWS_DEFAULT_REGION $AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY"'
        {put_events}
    """
    ran = {"capture_output": True, "text": True, "check": True}
    shell = subprocess.run(["bash", "-c", script], **ran)

    exported, *arguments = shell.stdout.splitlines()
    # Exported, not merely set: a child process sees them.
    assert exported == f"{deployment.endpoint_url} {deployment.region} testing testing"
    assert arguments[:3] == ["events", "put-events", "--entries"]
    (entry,) = json.loads(arguments[3])
    assert entry["EventBusName"] == deployment.event_bus_name
    assert json.loads(entry["Detail"])["employeeId"] == "E1"
    assert outcomes.endswith(" outcomes --follow")
    assert "--correlation-id" in subprocess.run(["bash", "-c", f"{outcomes} --help"], **ran).stdout
