"""MiniStack in a process group of its own on a loopback port; stopping it ends every process it started
(it runs each Lambda execution environment as a child process)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploy_check import DeployCheckProblem

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
# What MiniStack and its functions inherit from us: nothing of the caller's AWS configuration (an
# AWS_ENDPOINT_URL or credentials would reach the functions' environment).
INHERITED_VARIABLES = ("PATH", "HOME", "LANG")


class MiniStackProblem(DeployCheckProblem):
    """MiniStack could not be started; the message says why."""


@dataclass(frozen=True)
class MiniStack:
    endpoint_url: str
    log: Path
    process: subprocess.Popen[str]


def interpreter(executable: Path) -> Path:
    """The Python of MiniStack's venv: the one that runs the functions."""
    python = executable.parent / "python"
    for required in (executable, python):
        if not required.is_file():
            raise MiniStackProblem(
                f"{required}: no such file (make deploy-check installs MiniStack in its venv)"
            )
    return python


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((HOST, port)) == 0


@contextlib.contextmanager
def running_ministack(executable: Path, *, port: int, log: Path) -> Iterator[MiniStack]:
    """MiniStack serving on HOST:port until the block ends, however it ends."""
    interpreter(executable)
    if _in_use(port):
        raise MiniStackProblem(f"{HOST}:{port}: the port is in use by another process")
    # Each execution environment unpacks the code and the layer (80 MB) into a directory of its own, which
    # MiniStack leaves behind when it is stopped: they all go into one scratch directory, removed at the end.
    with tempfile.TemporaryDirectory(prefix="deploy-check-ministack-", ignore_cleanup_errors=True) as scratch:
        environment = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
        environment |= {"GATEWAY_PORT": str(port), "BIND_HOST": HOST, "LOG_LEVEL": "INFO", "TMPDIR": scratch}
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [str(executable)],
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the functions' processes are in it too
                text=True,
            )
        try:
            ministack = MiniStack(f"http://{HOST}:{port}", log, process)
            _wait_until_ready(ministack)
            yield ministack
        finally:
            _stop(process)


def _wait_until_ready(ministack: MiniStack) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if ministack.process.poll() is not None:
            raise MiniStackProblem(
                f"MiniStack exited with status {ministack.process.returncode} while starting: "
                f"{_last_line(ministack.log)}"
            )
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(f"{ministack.endpoint_url}/_ministack/health", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise MiniStackProblem(
        f"MiniStack did not answer at {ministack.endpoint_url} in {READY_TIMEOUT_SECONDS} s"
    )


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else "(its log is empty)"


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the whole group, then SIGKILL to whatever is left of it."""
    for sent in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sent)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
            if sent is signal.SIGKILL or not _group_alive(process.pid):
                return


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
