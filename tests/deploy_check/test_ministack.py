"""Starting MiniStack fails with one clear line when it cannot start; nothing is left running."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from deploy_check.ministack import HOST, MiniStackProblem, running_ministack


def _fake_venv(tmp_path: Path, script: str) -> Path:
    """A venv's bin/ with a `ministack` that runs `script`, and a `python` beside it."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("")
    executable = tmp_path / "bin" / "ministack"
    executable.write_text(f"#!/bin/sh\n{script}\n")
    executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
    return executable


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    executable = _fake_venv(tmp_path, "exit 0")
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]

        with (
            pytest.raises(MiniStackProblem, match=rf"^{HOST}:{port}: the port is in use by another process$"),
            running_ministack(executable, port=port, log=tmp_path / "log"),
        ):
            pass


def test_a_missing_venv_says_who_installs_it(tmp_path: Path) -> None:
    with (
        pytest.raises(
            MiniStackProblem, match=r"ministack: no such file \(make deploy-check installs MiniStack"
        ),
        running_ministack(tmp_path / "bin" / "ministack", port=_unused_port(), log=tmp_path / "log"),
    ):
        pass


def test_an_emulator_that_exits_while_starting_is_reported_with_its_last_log_line(tmp_path: Path) -> None:
    # Given a "ministack" that prints an error and exits
    executable = _fake_venv(tmp_path, "echo 'ERROR: cannot bind'; exit 3")

    # When it is started, then the failure names its status and its last line
    with (
        pytest.raises(MiniStackProblem, match=r"exited with status 3 while starting: ERROR: cannot bind"),
        running_ministack(executable, port=_unused_port(), log=tmp_path / "log"),
    ):
        pass
