"""Benchmark 2: what the framework costs per record, over the AWS calls themselves.

AdminCreateUser batches of 10 SQS records go through the real handler (idempotency, validation, redaction,
outcome event, logs at INFO, metrics, sampled tracing: as deployed) in one fresh process, and through a bare
loop making the same boto3 calls with the same params in another; both on the workers' boto3 clients answered
by botocore's Stubber (benchmarks/stubs.py). Each process's first batch is untimed (cold start is benchmark
1). Logs and metrics are written to a null stream: their formatting is measured, terminal I/O is not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from benchmarks.child import interleaved, run_probe
from benchmarks.report import Figure, describe_machine, median, render
from cognito_workers.catalog import ACTIONS_BY_NAME

GOAL_MS = 1.0
HANDLER = ACTIONS_BY_NAME["AdminCreateUser"].handler_module


def run(*, smoke: bool = False) -> list[Figure]:
    rounds, batch_count, batch_size = (1, 2, 3) if smoke else (5, 30, 10)
    calls = run_probe("batches", HANDLER, "handler", "1", "1")["calls"]
    sizes = (str(batch_count), str(batch_size))
    samples = interleaved(
        {
            "handler": _per_record_ms("handler", *sizes),
            "untraced": _per_record_ms("handler", *sizes, env={"POWERTOOLS_TRACE_DISABLED": "true"}),
            "bare": _per_record_ms("bare", *sizes, json.dumps(calls)),
        },
        rounds=rounds,
    )
    handler, untraced, bare = (median(samples[name]) for name in ("handler", "untraced", "bare"))
    overhead = handler - bare
    return [
        Figure(
            name="framework overhead per record",
            measured=f"{overhead:.2f} ms",
            goal=f"<= {GOAL_MS:.0f} ms",
            met=overhead <= GOAL_MS,
            details=(
                f"AdminCreateUser, median of {rounds} processes x {batch_count} batches of {batch_size} "
                f"records; {len(calls)} stubbed AWS calls per record",
                f"handler {handler:.3f} ms/record, bare loop {bare:.3f} ms/record",
                f"of the overhead, X-Ray tracing (POWERTOOLS_TRACE_DISABLED=true: {untraced:.3f} ms/record): "
                f"{handler - untraced:.2f} ms",
            ),
        ),
        Figure(name="handler / bare loop per record", measured=f"{handler / bare:.2f}x", goal="-", met=None),
    ]


def _per_record_ms(*args: str, env: dict[str, str] | None = None) -> Callable[[], float]:
    def measure() -> float:
        answer: dict[str, Any] = run_probe("batches", HANDLER, *args, env=env)
        return float(answer["seconds"]) * 1000 / int(answer["records"])

    return measure


if __name__ == "__main__":
    print(describe_machine())
    print(render(run()))
