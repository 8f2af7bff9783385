"""The operator CLI against the local AWS: what it prints, what it changes, and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local_aws.deployment import PREFIX
from local_aws.server import LocalAws
from operator_cli import app
from operator_cli.app import EXIT_OK, EXIT_USAGE, main
from tests.conftest import Pipeline

AWS_COMMANDS = ("publish", "status", "release", "dlq")


@pytest.fixture
def cli(
    local_aws: LocalAws,
    pipeline: Pipeline,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """Runs the CLI against the local endpoint and returns (exit code, the CLI's own output, errors)."""
    monkeypatch.setattr(app.console, "width", 200)
    monkeypatch.setattr(app.errors, "width", 200)
    pipeline.dead_letters("AdminGetUser")  # each test starts from an empty DLQ

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()  # what the workers printed before
        options = (
            ["--endpoint-url", local_aws.endpoint_url, "--prefix", PREFIX] if args[0] in AWS_COMMANDS else []
        )
        code = main([*args, *options])
        captured = capsys.readouterr()
        own = [
            line for line in captured.out.splitlines() if not line.startswith('{"_aws"')
        ]  # workers' metrics
        return code, "\n".join(own), captured.err

    return run


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


def test_publish_puts_valid_events_on_the_bus(
    cli: Any, pipeline: Pipeline, tmp_path: Path, unique: Any
) -> None:
    username = unique("csv")
    roster = write(
        tmp_path,
        "roster.csv",
        "type,employeeId,username,email,groups,sendInvitation\n"
        f"EmployeeOnboarded,E1,{username},{username}@example.com,staff;engineering,false\n",
    )

    code, out, _ = cli("publish", str(roster))

    assert code == EXIT_OK
    assert "published 1 of 1" in out
    messages = pipeline.sqs.receive_message(
        QueueUrl=pipeline.deployment.planner_queue.url, MaxNumberOfMessages=10
    )
    bodies = [json.loads(m["Body"]) for m in messages["Messages"]]
    (mine,) = [b for b in bodies if b["detail"].get("username") == username]
    assert mine["detail"]["groups"] == ["staff", "engineering"]
    assert mine["detail"]["sendInvitation"] is False


def test_publish_refuses_a_file_with_a_bad_event_and_publishes_nothing(
    cli: Any, pipeline: Pipeline, tmp_path: Path
) -> None:
    events = write(
        tmp_path,
        "events.json",
        json.dumps(
            [
                {"type": "EmployeeOffboarded", "detail": {"employeeId": "E1", "username": "ok"}},
                {"type": "EmployeeOffboarded", "detail": {"employeeId": "E2"}},
            ]
        ),
    )

    code, _, err = cli("publish", str(events))

    assert code == EXIT_USAGE
    assert "event 2: detail.username: Field required" in err
    assert "Messages" not in pipeline.sqs.receive_message(QueueUrl=pipeline.deployment.planner_queue.url)


def test_plan_dry_run_prints_the_stages_and_changes_nothing(cli: Any, tmp_path: Path) -> None:
    events = write(
        tmp_path,
        "leaver.json",
        json.dumps(
            {
                "type": "EmployeeOffboarded",
                "detail": {"employeeId": "E1", "username": "ada", "deleteAfterDays": 0},
            }
        ),
    )

    code, out, _ = cli("plan", str(events), "--dry-run")

    assert code == EXIT_OK
    assert out.index("AdminDisableUser") < out.index("AdminUserGlobalSignOut") < out.index("AdminDeleteUser")
    assert "nothing was applied" in out


def test_status_shows_every_function_with_its_dlq(cli: Any, pipeline: Pipeline) -> None:
    pipeline.send("AdminGetUser", "not json")
    pipeline.deliver("AdminGetUser")

    code, out, _ = cli("status")

    assert code == EXIT_OK
    cells = [
        cell.strip() for cell in next(line for line in out.splitlines() if "AdminGetUser" in line).split("│")
    ]
    assert cells[1:5] == ["AdminGetUser", "0", "0", "1"]  # the rejected command waits in the DLQ
    assert "LifecyclePlanner" in out


def test_dlq_show_and_redrive(cli: Any, pipeline: Pipeline) -> None:
    message_id = pipeline.send(
        "AdminGetUser", json.dumps({"action": "AdminGetUser", "params": {"Username": ""}})
    )
    pipeline.deliver("AdminGetUser")
    (dead_letter,) = json.loads(cli("dlq", "list", "AdminGetUser", "--json")[1])

    code, out, _ = cli("dlq", "show", "AdminGetUser", dead_letter["MessageId"])
    assert code == EXIT_OK
    assert json.loads(out)["attributes"]["SourceMessageId"] == message_id
    assert cli("dlq", "show", "AdminGetUser", "no-such-id")[0] == EXIT_USAGE
    assert cli("dlq", "redrive", "AdminGetUser")[0] == EXIT_OK

    report = pipeline.deliver("AdminGetUser")
    assert report.received == 1  # back on its queue; rejected again, so in the DLQ again
    (again,) = pipeline.dead_letters("AdminGetUser")
    assert again["MessageAttributes"]["ErrorCode"]["StringValue"] == "InvalidParams"


def test_dlq_list_names_the_reason(cli: Any, pipeline: Pipeline) -> None:
    pipeline.send("AdminGetUser", "[]")
    pipeline.deliver("AdminGetUser")

    code, out, _ = cli("dlq", "list", "AdminGetUser")

    assert code == EXIT_OK
    assert "body: must be a JSON object" in out


def test_unknown_functions_and_files_are_usage_errors(cli: Any, tmp_path: Path) -> None:
    assert cli("dlq", "list", "AdminDoAnything")[0] == EXIT_USAGE
    assert cli("publish", str(tmp_path / "missing.csv"))[0] == EXIT_USAGE
    assert cli("plan", str(write(tmp_path, "x.json", "{}")))[0] == EXIT_USAGE  # without --dry-run


def test_schema_lists_and_prints_contracts(cli: Any) -> None:
    code, out, _ = cli("schema")
    assert code == EXIT_OK
    assert {"CommandEnvelope", "OutcomeEvent", "HrEvent/EmployeeOnboarded", "Params/AdminCreateUser"} <= set(
        out.split()
    )

    code, out, _ = cli("schema", "CommandEnvelope")
    schema = json.loads(out)
    assert schema["required"] == ["params"]
    assert {"action", "idempotencyKey", "correlationId"} <= set(schema["properties"])
    assert cli("schema", "Nope")[0] == EXIT_USAGE


def test_release_puts_the_release_event_for_the_planner(cli: Any, pipeline: Pipeline) -> None:
    code, _, _ = cli("release", "--reason", "reorg confirmed")

    assert code == EXIT_OK
    messages = pipeline.sqs.receive_message(
        QueueUrl=pipeline.deployment.planner_queue.url, MaxNumberOfMessages=10
    )
    bodies = [json.loads(m["Body"]) for m in messages["Messages"]]
    assert [b["detail"]["reason"] for b in bodies if b["detail-type"] == "DeprovisioningReleased"] == [
        "reorg confirmed"
    ]
    for message in messages["Messages"]:
        pipeline.sqs.delete_message(
            QueueUrl=pipeline.deployment.planner_queue.url, ReceiptHandle=message["ReceiptHandle"]
        )
