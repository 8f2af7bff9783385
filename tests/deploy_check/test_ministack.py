"""Starting MiniStack fails with one clear line when it cannot start; nothing is left running."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from deploy_check.ministack import HOST, MiniStackProblem, running_ministack


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    executable = tmp_path / "ministack"
    executable.write_text("#!/bin/sh\nexit 0\n")
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]

        with (
            pytest.raises(MiniStackProblem, match=rf"^{HOST}:{port}: the port is in use by another process$"),
            running_ministack(executable, port=port, log=tmp_path / "log"),
        ):
            pass


def test_a_missing_executable_says_who_installs_it(tmp_path: Path) -> None:
    with (
        pytest.raises(MiniStackProblem, match="no such file"),
        running_ministack(tmp_path / "ministack", port=1, log=tmp_path / "log"),
    ):
        pass


def test_an_emulator_that_exits_while_starting_is_reported_with_its_last_log_line(tmp_path: Path) -> None:
    # Given a "ministack" that prints an error and exits
    executable = tmp_path / "ministack"
    executable.write_text("#!/bin/sh\necho 'ERROR: cannot bind'\nexit 3\n")
    executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]

    # When it is started, then the failure names its status and its last line
    with (
        pytest.raises(MiniStackProblem, match=r"exited with status 3 while starting: ERROR: cannot bind"),
        running_ministack(executable, port=port, log=tmp_path / "log"),
    ):
        pass
