"""The drain's progress: one line kept up to date on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from local_aws.deployment import LocalDeployment
from operator_cli import local
from operator_cli.local import DrainProgress

PROGRESS = r"(\d+) commands done, (\d+) waiting or in flight, (\d+) dead-lettered, [\d.]+ commands/s"


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_tells_commands_done_queued_dead_lettered_and_the_rate(
    terminal: bool, deployment: LocalDeployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = io.StringIO()
    monkeypatch.setattr(local, "console", Console(file=shown, force_terminal=terminal, width=120))
    monkeypatch.setattr(local, "PLAIN_PROGRESS_SECONDS", 0)

    with DrainProgress(deployment).shown() as progress:
        progress(3)
        progress(7)

    output = shown.getvalue()
    if terminal:  # redrawn in place (cursor movements), and gone once the drain ends
        assert "\x1b[" in output
        assert re.search(rf"draining: {PROGRESS}", output)
        assert "drained" not in output
    else:
        lines = output.splitlines()
        assert all(re.fullmatch(rf"(draining|drained): {PROGRESS}", line) for line in lines), lines
        assert [" ".join(line.split()[:2]) for line in lines] == ["draining: 3", "draining: 7", "drained: 7"]
