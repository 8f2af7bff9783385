"""The operator CLI against the local AWS: what it prints, what it changes, and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cognito_workers.catalog import ResourceNames
from local_aws.deployment import PREFIX
from local_aws.server import LocalAws
from operator_cli import app
from operator_cli.app import EXIT_OK, EXIT_USAGE, main
from tests.cli.queues import take_all
from tests.conftest import Pipeline

AWS_COMMANDS = ("publish", "status", "release", "dlq", "outcomes")


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
    # Each test starts from an empty DLQ and planner queue, whatever ran before it.
    pipeline.dead_letters("AdminGetUser")
    take_all(pipeline.sqs, pipeline.deployment.planner_queue.url)

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
    (mine,) = take_all(pipeline.sqs, pipeline.deployment.planner_queue.url)
    assert mine["detail"]["username"] == username
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
                {"type": "EmployeeOffboarded", "detail": {"employeeId": "E2", "deleteAfterDays": -1}},
            ]
        ),
    )

    code, _, err = cli("publish", str(events))

    assert code == EXIT_USAGE
    assert "event 2: detail.deleteAfterDays: Input should be greater than or equal to 0" in err
    assert take_all(pipeline.sqs, pipeline.deployment.planner_queue.url) == []


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
    (dead_letter,) = json.loads(cli("dlq", "list", "AdminGetUser", "--output", "json")[1])

    code, out, _ = cli("dlq", "show", "AdminGetUser", dead_letter["messageId"], "--output", "json")
    assert code == EXIT_OK
    shown = json.loads(out)
    assert shown["attributes"]["SourceMessageId"] == message_id
    assert shown["body"]["params"] == {"Username": ""}
    assert cli("dlq", "show", "AdminGetUser", "no-such-id")[0] == EXIT_USAGE
    assert cli("dlq", "redrive", "AdminGetUser")[0] == EXIT_OK

    report = pipeline.deliver("AdminGetUser")
    assert report.received == 1  # back on its queue; rejected again, so in the DLQ again
    (again,) = pipeline.dead_letters("AdminGetUser")
    assert again["MessageAttributes"]["ErrorCode"]["StringValue"] == "InvalidParams"


def test_dlq_list_names_the_reason_whole_even_on_a_narrow_terminal(
    cli: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.send("AdminGetUser", "[]")
    pipeline.deliver("AdminGetUser")
    monkeypatch.setattr(app.console, "width", 40)

    code, out, _ = cli("dlq", "list", "AdminGetUser")

    assert code == EXIT_OK
    assert max(len(line) for line in out.splitlines()) <= 40
    cells = "".join(line.split("│")[-2].strip() for line in out.splitlines() if line.count("│") == 5)
    assert "body:mustbeaJSONobject" in cells.replace(" ", "")  # folded over lines, never cut


def test_status_as_json(cli: Any, pipeline: Pipeline) -> None:
    pipeline.send("AdminGetUser", "not json")
    pipeline.deliver("AdminGetUser")

    code, out, _ = cli("status", "--output", "json")

    assert code == EXIT_OK
    status = json.loads(out)
    assert status["prefix"] == PREFIX
    assert status["functions"]["AdminGetUser"] == {"waiting": 0, "inFlight": 0, "inDlq": 1}
    assert set(status["functions"]) == {*ResourceNames(PREFIX).functions}


def test_plan_dry_run_as_json(cli: Any, tmp_path: Path) -> None:
    events = write(
        tmp_path,
        "joiner.json",
        json.dumps(
            {
                "type": "EmployeeOnboarded",
                "detail": {
                    "employeeId": "E9",
                    "email": "e9@example.com",
                    "groups": ["staff"],
                    "sendInvitation": False,
                },
            }
        ),
    )

    code, out, _ = cli("plan", str(events), "--dry-run", "--output", "json")

    assert code == EXIT_OK
    (plan,) = json.loads(out)
    assert (plan["event_type"], plan["username"]) == ("EmployeeOnboarded", "e9")
    steps = [command["action"] for stage in plan["stages"] for command in stage["commands"]]
    assert steps == ["AdminCreateUser", "AdminAddUserToGroup"]


def test_outcomes_reads_one_correlation_id_and_leaves_the_others_queued(
    cli: Any, pipeline: Pipeline, unique: Any
) -> None:
    mine, other = unique("mine"), unique("other")
    for correlation_id in (mine, other):
        pipeline.send(
            "AdminGetUser",
            {"action": "AdminGetUser", "correlationId": correlation_id, "params": {"Username": "nobody"}},
        )
        pipeline.deliver("AdminGetUser")

    code, out, _ = cli("outcomes", "--correlation-id", mine, "--output", "json")
    assert code == EXIT_OK
    (event,) = [json.loads(line) for line in out.splitlines()]
    assert (event["detail-type"], event["detail"]["correlationId"]) == ("ActionRejected", mine)
    assert cli("outcomes", "--correlation-id", mine)[1] == ""  # read once: it was removed

    code, out, _ = cli("outcomes", "--correlation-id", other)
    assert code == EXIT_OK
    assert f"ActionRejected AdminGetUser user=nobody correlation={other} error=UserNotFoundException" in out


def test_outcomes_in_aws_needs_the_queue_an_operator_subscribed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")

    assert main(["outcomes"]) == EXIT_USAGE


def test_unknown_functions_and_files_are_usage_errors(cli: Any, tmp_path: Path) -> None:
    assert cli("dlq", "list", "AdminDoAnything")[0] == EXIT_USAGE
    assert cli("publish", str(tmp_path / "missing.csv"))[0] == EXIT_USAGE
    assert cli("plan", str(write(tmp_path, "x.json", "{}")))[0] == EXIT_USAGE  # without --dry-run


def test_schema_lists_and_prints_contracts(cli: Any) -> None:
    code, out, _ = cli("schema")
    assert code == EXIT_OK
    assert {
        "CommandEnvelope",
        "OutcomeEvent",
        "HrEvent/EmployeeOnboarded",
        "Params/AdminCreateUser",
        "ReconciliationCompleted",
        "ReconciliationHeld",
        "ReconciliationRefused",
        "ReconciliationFailed",
    } <= set(out.split())

    code, out, _ = cli("schema", "CommandEnvelope")
    schema = json.loads(out)
    assert schema["required"] == ["params"]
    assert {"action", "idempotencyKey", "correlationId"} <= set(schema["properties"])
    held = json.loads(cli("schema", "ReconciliationHeld")[1])
    assert {"runId", "status", "counts", "heldBecause", "cognitoCalls"} <= set(held["properties"])
    refused = json.loads(cli("schema", "ReconciliationRefused")[1])
    assert {"bucket", "key", "messageId", "error"} <= set(refused["properties"])
    assert cli("schema", "Nope")[0] == EXIT_USAGE


def test_release_puts_the_release_event_for_the_planner(cli: Any, pipeline: Pipeline) -> None:
    code, _, _ = cli("release", "--reason", "reorg confirmed")

    assert code == EXIT_OK
    (released,) = take_all(pipeline.sqs, pipeline.deployment.planner_queue.url)
    assert released["detail-type"] == "DeprovisioningReleased"
    assert released["source"] == "cognito.lifecycle.operator"
    assert released["detail"]["reason"] == "reorg confirmed"
