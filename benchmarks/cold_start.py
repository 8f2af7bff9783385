"""Benchmark 1: cold start of each function against the floor of any Python function calling Cognito.

Each sample is a fresh process with the function's deployed environment (benchmarks/child.py). Inside it, the
time runs from just before the handler module is imported until the function is ready for its first record:
settings read and the clients its first record needs created. Interpreter start-up is excluded (the same for
every process, and no code of ours can change it). The floor is `import boto3; boto3.client("cognito-idp")`,
timed the same way, in the same rounds, in random order. The library floor (boto3 with the three clients of
a worker's first record, pydantic, the Powertools utilities the functions use: logger, metrics, idempotency;
no code of ours) shows how much of a cold start the design's libraries take. One function is also measured
as deployed with traceAwsCalls (TRACE_AWS_CALLS=true), to show what asking for X-Ray subsegments of the AWS
calls costs.

The ratios are of CPU time (the process's own, time.process_time): a cold start is CPU-bound, and on a
shared machine the wall-clock time also counts the waits for a core that other work causes. The wall-clock
ratios are printed beside them.

`python -m benchmarks.cold_start --profile [HANDLER_MODULE]` prints a pyinstrument profile of one cold start.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from benchmarks.child import handler_modules, interleaved, run_probe, short_name
from benchmarks.report import Figure, describe_machine, median, render
from cognito_workers.observability import TRACE_AWS_CALLS

GOAL_RATIO = 1.3
FLOOR, LIBRARY_FLOOR = "floor", "library_floor"
TRACED = "traced"


def run(*, smoke: bool = False) -> list[Figure]:
    modules = handler_modules(smoke=smoke)
    rounds = 2 if smoke else 10
    wall: dict[str, list[float]] = {}
    whole_process: dict[str, list[float]] = {}

    def sample(name: str, probe: str, module: str, env: dict[str, str] | None = None) -> Callable[[], float]:
        def measure() -> float:
            start = time.perf_counter()
            answer = run_probe(probe, module, env=env)
            whole_process.setdefault(name, []).append(time.perf_counter() - start)
            wall.setdefault(name, []).append(answer["seconds"])
            cpu_seconds: float = answer["cpu_seconds"]
            return cpu_seconds

        return measure

    runs = {floor: sample(floor, floor, modules[0]) for floor in (FLOOR, LIBRARY_FLOOR)}
    runs.update({module: sample(module, "cold_start", module) for module in modules})
    runs[TRACED] = sample(TRACED, "cold_start", modules[0], env={TRACE_AWS_CALLS: "true"})
    cpu = {name: median(values) for name, values in interleaved(runs, rounds=rounds).items()}
    wall_medians = {name: median(values) for name, values in wall.items()}
    ratios = {module: cpu[module] / cpu[FLOOR] for module in modules}
    wall_ratios = {module: wall_medians[module] / wall_medians[FLOOR] for module in modules}
    # The workers differ by their action's name and model only, so much of the spread between them is the
    # machine's noise: the median across functions is the typical figure, the worst holds the goal for each.
    typical = median(list(ratios.values()))
    worst = max(modules, key=ratios.__getitem__)
    traced = cpu[TRACED]
    return [
        Figure(
            name="cold start / floor, median across functions",
            measured=f"{typical:.2f}x",
            goal=f"<= {GOAL_RATIO}x",
            met=typical <= GOAL_RATIO,
            details=(
                f"CPU time, median of {rounds} fresh processes each: import + settings + the first record's "
                "clients, interpreter start-up excluded",
                f"floor (import boto3; boto3.client('cognito-idp')): {_ms(cpu[FLOOR])}",
                f"library floor (boto3 + 3 clients, pydantic, Powertools' logger, metrics and idempotency): "
                f"{_ms(cpu[LIBRARY_FLOOR])}, {cpu[LIBRARY_FLOOR] / cpu[FLOOR]:.2f}x the floor",
                *(
                    f"{short_name(name)}: {_ms(cpu[name])}, {ratios[name]:.2f}x "
                    f"(wall clock {_ms(wall_medians[name])}, {wall_ratios[name]:.2f}x)"
                    for name in modules
                ),
                f"wall clock: floor {_ms(wall_medians[FLOOR])}, median across functions "
                f"{median(list(wall_ratios.values())):.2f}x",
                f"whole process incl. interpreter start-up (wall clock): "
                f"floor {_ms(median(whole_process[FLOOR]))}, "
                f"{short_name(worst)} {_ms(median(whole_process[worst]))}",
                f"{short_name(modules[0])} with traceAwsCalls (the X-Ray SDK loaded, botocore patched): "
                f"{_ms(traced)}, {traced / cpu[FLOOR]:.2f}x, {(traced - cpu[modules[0]]) * 1000:+.0f} ms",
            ),
        ),
        Figure(
            name="cold start / floor, worst function",
            measured=f"{ratios[worst]:.2f}x",
            goal=f"<= {GOAL_RATIO}x",
            met=ratios[worst] <= GOAL_RATIO,
            details=(f"{short_name(worst)}: {_ms(cpu[worst])} of CPU against the floor's {_ms(cpu[FLOOR])}",),
        ),
        Figure(
            name="cold start / library floor, median across functions",
            measured=f"{median([cpu[module] for module in modules]) / cpu[LIBRARY_FLOOR]:.2f}x",
            goal="-",
            met=None,
        ),
    ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def profile(handler_module: str) -> str:
    return str(run_probe("profile", handler_module)["text"])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--profile"]:
        print(profile(sys.argv[2] if len(sys.argv) > 2 else handler_modules(smoke=True)[0]))
    else:
        print(describe_machine())
        print(render(run()))
