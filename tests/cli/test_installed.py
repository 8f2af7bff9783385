"""The CLI installed as a package (`pip install .` into a fresh virtual environment, run outside the
checkout): every command's help, the commands that need no AWS, and the account commands against a local
endpoint. The local commands say that they need the source checkout."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from local_aws.server import LocalAws
from tests.cli.queues import take_all
from tests.conftest import Pipeline

ROOT = Path(__file__).resolve().parents[2]
# What pyproject.toml's packages are built from.
PACKAGE_SOURCES = ("functions/cognito_workers", "infra", "local_aws", "operator_cli")
COMMANDS = (
    *("demo", "serve", "run", "publish", "status", "outcomes", "plan", "release", "reconcile", "schema"),
    *("dlq", "dlq list", "dlq show", "dlq redrive"),
)


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        if match := re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?==(\S+)", line.strip()):
            pins[match[1].lower()] = match[3]
    return pins


def test_the_package_dependencies_are_pinned_as_the_requirements_files_pin_them() -> None:
    pinned = _pins(ROOT / "requirements.txt") | _pins(ROOT / "requirements-dev.txt")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]

    for dependency in declared:
        name, version = re.sub(r"\[[^]]*\]", "", dependency).split("==")
        assert pinned[name.lower()] == version, dependency


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the package, built from a copy of its sources alone."""
    work = tmp_path_factory.mktemp("installed")
    source = work / "source"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    for directory in PACKAGE_SOURCES:
        shutil.copytree(ROOT / directory, source / directory, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "venv", work / "venv"], check=True)
    subprocess.run(
        [work / "venv/bin/pip", "install", "--quiet", "--disable-pip-version-check", source],
        check=True,
        capture_output=True,
    )
    return work / "venv/bin/cognito-lifecycle"


def test_the_installed_cli_runs_outside_the_checkout(
    installed: Path, local_aws: LocalAws, pipeline: Pipeline, tmp_path: Path
) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [installed, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**local_aws.client_environment(), "PATH": "/usr/bin:/bin", "COLUMNS": "120"},
            timeout=60,
        )

    for command in COMMANDS:
        helped = cli(*command.split(), "--help")
        assert (helped.returncode, helped.stderr) == (0, ""), command
    assert {"CommandEnvelope", "ReconciliationHeld"} <= set(cli("schema").stdout.split())
    assert "Username" in json.loads(cli("schema", "Params/AdminDisableUser").stdout)["required"]
    leaver = tmp_path / "leaver.json"
    detail = {"employeeId": "E1", "username": "ada"}
    leaver.write_text(json.dumps({"type": "EmployeeOffboarded", "detail": detail}))
    (plan,) = json.loads(cli("plan", "--dry-run", str(leaver), "--output", "json").stdout)
    assert plan["stages"][0]["commands"][0]["action"] == "AdminDisableUser"

    status = cli("status", "--output", "json")
    assert status.returncode == 0, status.stderr
    assert "LifecyclePlanner" in json.loads(status.stdout)["functions"]
    released = cli("release", "--reason", "installed")
    assert released.returncode == 0, released.stderr
    (event,) = take_all(pipeline.sqs, pipeline.deployment.planner_queue.url)
    assert (event["detail-type"], event["detail"]["reason"]) == ("DeprovisioningReleased", "installed")

    demo = cli("demo")
    assert demo.returncode == 2
    assert "source checkout" in " ".join(demo.stderr.split())
