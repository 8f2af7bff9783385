"""The benchmarks still run end to end on the real code paths, at smoke size. Their figures are not judged
here (a shared machine's timings are no test verdict): only that each reports what it claims to."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

import pytest

from benchmarks import cold_start, drain, emulator, memory, mixed_load, per_record, reconcile
from benchmarks.report import Figure, render
from cognito_workers.observability import logger

pytestmark = pytest.mark.bench

# A measured value is a number and its unit. A difference of two timings (the per-record overhead) can come
# out below zero at smoke size on a busy machine, so the sign is not judged.
MEASURED = re.compile(r"^-?\d+(\.\d+)? ?(x|%|ms|MB|s|calls|commands/s|requests/command)(\s|$)")


@pytest.fixture(autouse=True)
def workers_logging_restored() -> Iterator[None]:
    """The drain benchmark quiets the workers of this process (environment and logger level), as the demo
    does; the tests after it expect them as they were."""
    environment, level = dict(os.environ), logger.log_level
    yield
    os.environ.clear()
    os.environ.update(environment)
    logger.setLevel(level)


@pytest.mark.parametrize(
    ("benchmark", "names"),
    [
        (
            cold_start.run,
            [
                "cold start / floor, median across functions",
                "cold start / floor, worst function",
                "cold start / library floor, median across functions",
            ],
        ),
        (per_record.run, ["framework overhead per record", "handler / bare loop per record"]),
        (memory.run, ["peak RSS of one function process"]),
        (drain.run, ["quota-bound drain: achieved / quota"]),
        (
            emulator.run,
            [
                "demo rate, quotas off",
                "requests per command",
                "CPU per request, server + caller (median operation)",
            ],
        ),
        (
            mixed_load.run,
            [
                "mixed load: UserCreation achieved / quota",
                "mixed load: UserUpdate achieved / quota",
                "mixed load: UserResourceUpdate achieved / quota",
                "mixed load: calls throttled by the local Cognito",
                "mixed load: quota budget per command",
            ],
        ),
        (
            reconcile.run,
            [
                "reconciliation: Cognito calls",
                "reconciliation: time / quota-bound minimum",
                "reconciler CPU per 1,000 users",
                "reconciler peak RSS",
                "time until the pool matches the snapshot",
            ],
        ),
    ],
    ids=["cold_start", "per_record", "memory", "drain", "emulator", "mixed_load", "reconcile"],
)
def test_benchmark_reports_its_figures_at_smoke_size(
    benchmark: Callable[..., list[Figure]], names: list[str]
) -> None:
    # Given the smoke size, when the benchmark runs
    figures = benchmark(smoke=True)

    # Then it reports its figures, each with a measurement and its unit, and the goals it claims
    assert [figure.name for figure in figures] == names
    for figure in figures:
        assert MEASURED.match(figure.measured), figure.measured
        assert figure.goal == "-" if figure.met is None else figure.goal.startswith(("<= ", ">= ", "< "))
    assert all(figure.details for figure in figures if figure.met is not None)
    assert render(figures).count("\n") >= len(figures) + 1
