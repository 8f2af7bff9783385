"""Benchmark 2: what the framework costs per record, over the AWS calls themselves.

AdminCreateUser batches of 10 SQS records go through the real handler (idempotency, validation, redaction,
outcome event, logs at INFO, metrics, in a sampled invocation under active tracing: as deployed) in one fresh
process, and through a bare loop making the same boto3 calls with the same params in another; both on the
workers' boto3 clients answered by botocore's Stubber (benchmarks/stubs.py). The handler is also measured as
deployed with traceAwsCalls (TRACE_AWS_CALLS=true: X-Ray subsegments of the invocation and its AWS calls), to
show what asking for them costs. Each process's first batch is untimed (cold start is benchmark 1). Logs and
metrics are written to a null stream: their formatting is measured, terminal I/O is not. The figure is of CPU
time, as benchmark 1's (the wall-clock figures are printed beside it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from benchmarks.child import interleaved, run_probe
from benchmarks.report import Figure, describe_machine, median, render
from cognito_workers.catalog import ACTIONS_BY_NAME
from cognito_workers.observability import TRACE_AWS_CALLS

GOAL_MS = 0.5
HANDLER = ACTIONS_BY_NAME["AdminCreateUser"].handler_module


def run(*, smoke: bool = False) -> list[Figure]:
    rounds, batch_count, batch_size = (1, 2, 3) if smoke else (5, 30, 10)
    calls = run_probe("batches", HANDLER, "handler", "1", "1")["calls"]
    sizes = (str(batch_count), str(batch_size))
    wall: dict[str, list[float]] = {}

    def per_record_ms(name: str, *args: str, env: dict[str, str] | None = None) -> Callable[[], float]:
        def measure() -> float:
            answer: dict[str, Any] = run_probe("batches", HANDLER, *args, env=env)
            records = int(answer["records"])
            wall.setdefault(name, []).append(float(answer["seconds"]) * 1000 / records)
            return float(answer["cpu_seconds"]) * 1000 / records

        return measure

    samples = interleaved(
        {
            "handler": per_record_ms("handler", "handler", *sizes),
            "traced": per_record_ms("traced", "handler", *sizes, env={TRACE_AWS_CALLS: "true"}),
            "bare": per_record_ms("bare", "bare", *sizes, json.dumps(calls)),
        },
        rounds=rounds,
    )
    handler, traced, bare = (median(samples[name]) for name in ("handler", "traced", "bare"))
    wall_handler, wall_bare = (median(wall[name]) for name in ("handler", "bare"))
    overhead = handler - bare
    return [
        Figure(
            name="framework overhead per record",
            measured=f"{overhead:.2f} ms",
            goal=f"< {GOAL_MS} ms",
            met=overhead < GOAL_MS,
            details=(
                f"CPU time, AdminCreateUser, median of {rounds} processes x {batch_count} batches of "
                f"{batch_size} records; {len(calls)} stubbed AWS calls per record; tracing as deployed",
                f"handler {handler:.3f} ms/record, bare loop {bare:.3f} ms/record",
                f"wall clock: handler {wall_handler:.3f} ms/record, bare loop {wall_bare:.3f} ms/record, "
                f"overhead {wall_handler - wall_bare:.2f} ms",
                f"with traceAwsCalls (X-Ray subsegments of the invocation and each AWS call): "
                f"{traced:.3f} ms/record, {traced - handler:+.2f} ms",
            ),
        ),
        Figure(name="handler / bare loop per record", measured=f"{handler / bare:.2f}x", goal="-", met=None),
    ]


if __name__ == "__main__":
    print(describe_machine())
    print(render(run()))
