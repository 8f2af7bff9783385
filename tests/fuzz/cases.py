"""The fuzz cases run, counted by kind, and the summary of them that ends the session (its hooks are in
tests/conftest.py, which pytest-xdist's controller loads: it adds up the workers' counts)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fuzz")
CHAOS_MINIMUM_CASES = 10_000
CASES: Counter[str] = Counter()


def finish(session: pytest.Session) -> None:
    """A worker hands its counts to the controller; the session that ran them all judges the chaos run."""
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:
        worker_output["fuzz_cases"] = dict(CASES)
    elif PROFILE == "chaos" and sum(CASES.values()) < CHAOS_MINIMUM_CASES:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def worker_done(node: Any) -> None:
    CASES.update(getattr(node, "workeroutput", {}).get("fuzz_cases", {}))


def summary(terminalreporter: Any) -> None:
    if not CASES:
        return
    total = sum(CASES.values())
    counts = ", ".join(f"{kind} {count}" for kind, count in sorted(CASES.items()))
    terminalreporter.write_line(f"fuzz ({PROFILE} profile): {total} cases: {counts}")
    if PROFILE == "chaos" and total < CHAOS_MINIMUM_CASES:
        terminalreporter.write_line(f"fuzz: FAILED, fewer than {CHAOS_MINIMUM_CASES} cases", red=True)
