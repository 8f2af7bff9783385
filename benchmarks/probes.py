"""What runs inside the fresh processes of benchmarks/child.py:
`python -m benchmarks.probes PROBE HANDLER_MODULE [ARGS...]` prints one JSON object. Nothing but the standard
library is imported before a probe starts its clock, so that the handler and the floors start alike.

Logs and metrics go to stdout in Lambda: here sys.stdout is a null stream (formatting them is measured,
terminal I/O is not) and the answer goes to the real stdout.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The clients each kind of function creates for its first record (the planner's first HR event reads and
# saves state and dispatches commands; only leavers need the scheduler).
WORKER_CLIENTS = ("cognito_idp", "dynamodb", "events")
PLANNER_CLIENTS = ("dynamodb", "events")


class Stopwatch:
    """Wall-clock and CPU time of what runs inside `timing()`, summed. CPU time is what the code costs
    whatever else the machine runs; wall-clock time adds the waits for a core, mostly noise on a shared VM."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    @contextmanager
    def timing(self) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.seconds += time.perf_counter() - wall
        self.cpu_seconds += time.process_time() - cpu

    def answer(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "maxrss_kb": peak_rss_kb()}


def floor(handler_module: str) -> dict[str, Any]:
    """What any Python function calling Cognito pays: boto3 and one client."""
    stopwatch = Stopwatch()
    with stopwatch.timing():
        import boto3

        boto3.client("cognito-idp")
    return stopwatch.answer()


def library_floor(handler_module: str) -> dict[str, Any]:
    """The libraries the functions are built on, set up as they set them up, without any code of ours: what
    a function of this design pays before its own code runs."""
    stopwatch = Stopwatch()
    with stopwatch.timing():
        import boto3
        from aws_lambda_powertools import Logger
        from aws_lambda_powertools.metrics import EphemeralMetrics
        from aws_lambda_powertools.utilities import idempotency  # noqa: F401
        from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints  # noqa: F401

        class Model(BaseModel):  # the first model built imports the rest of pydantic
            name: str = Field(min_length=1)

        # No Tracer: by default the functions leave tracing to Lambda (cognito_workers.observability).
        Logger(service="floor")
        EphemeralMetrics(namespace="floor")
        session = boto3.session.Session()
        for service in ("cognito-idp", "dynamodb", "events"):
            session.client(service)
    return stopwatch.answer()


def cold_start(handler_module: str) -> dict[str, Any]:
    """The handler module imported and initialised as its first invocation needs it: settings and clients."""
    stopwatch = Stopwatch()
    with stopwatch.timing():
        consumer = _consumer(importlib.import_module(handler_module))
        from cognito_workers.catalog import PLANNER  # already imported by the handler

        consumer.configured_settings()
        for name in PLANNER_CLIENTS if handler_module == PLANNER.handler_module else WORKER_CLIENTS:
            getattr(consumer.clients, name)
    return stopwatch.answer()


def profile(handler_module: str) -> dict[str, Any]:
    """A pyinstrument profile of the cold start."""
    from pyinstrument import Profiler

    with Profiler(interval=0.0005) as profiler:
        cold_start(handler_module)
    return {"text": profiler.output_text(unicode=True, color=False, show_all=False)}


def batches(
    handler_module: str, mode: str, batch_count: str, batch_size: str, calls: str = ""
) -> dict[str, Any]:
    """`batch_count` SQS batches of `batch_size` AdminCreateUser commands, through the real handler (mode
    "handler") or through a bare loop making `calls` (JSON, as captured from the handler) per record (mode
    "bare"), on stubbed clients. Only the handler calls (or the bare loops) are timed."""
    from benchmarks import stubs

    traffic = stubs.StubbedTraffic()
    if mode == "handler":
        consumer = _consumer(importlib.import_module(handler_module))
        consumer.clients = traffic.clients
        run_batch = consumer.handler
    else:
        run_batch = traffic.bare_loop(json.loads(calls))
    # Untimed: the first batch initialises what cold start measures; its one record's calls are captured.
    with traffic.capturing():
        traffic.check_batch(run_batch(*traffic.prepare_batch(0, 1)))
    stopwatch = Stopwatch()
    for number in range(1, int(batch_count) + 1):
        event, context = traffic.prepare_batch(number, int(batch_size))
        with stopwatch.timing():
            response = run_batch(event, context)
        traffic.check_batch(response)
    return {**stopwatch.answer(), "records": int(batch_count) * int(batch_size), "calls": traffic.captured}


def _consumer(module: Any) -> Any:
    """The queue consumer of the worker or planner behind a handler module."""
    return (getattr(module, "worker", None) or module.planner).consumer


def peak_rss_kb() -> int:
    """This process's peak resident set, in kilobytes. Linux carries ru_maxrss across exec from the forked
    parent (a large benchmark parent inflated every probe), so its own high-water mark comes from
    /proc/self/status (VmHWM) where there is one."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux, bytes on macOS


PROBES: dict[str, Callable[..., dict[str, Any]]] = {
    "floor": floor,
    "library_floor": library_floor,
    "cold_start": cold_start,
    "profile": profile,
    "batches": batches,
}

if __name__ == "__main__":
    answer_stream, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    probe, *arguments = sys.argv[1:]
    answer_stream.write(json.dumps(PROBES[probe](*arguments)))
