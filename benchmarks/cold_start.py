"""Benchmark 1: cold start of each function against the floor of any Python function calling Cognito.

Each sample is a fresh process with the function's deployed environment (benchmarks/child.py). Inside it,
time.perf_counter runs from just before the handler module is imported until the function is ready for its
first record: settings read and the clients its first record needs created. Interpreter start-up is excluded
(the same for every process, and no code of ours can change it). The floor is `import boto3;
boto3.client("cognito-idp")`, timed the same way, in the same rounds, in random order. The library floor
(boto3 with the three clients of a worker's first record, pydantic, Powertools with X-Ray tracing; no code of
ours) shows how much of a cold start the design's libraries take.

`python -m benchmarks.cold_start --profile [HANDLER_MODULE]` prints a pyinstrument profile of one cold start.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from benchmarks.child import handler_modules, interleaved, run_probe, short_name
from benchmarks.report import Figure, describe_machine, median, render

GOAL_RATIO = 1.3
FLOORS = ("floor", "library_floor")


def run(*, smoke: bool = False) -> list[Figure]:
    modules = handler_modules(smoke=smoke)
    rounds = 2 if smoke else 10
    whole_process: dict[str, list[float]] = {}

    def sample(probe: str, module: str) -> Callable[[], float]:
        def measure() -> float:
            start = time.perf_counter()
            seconds: float = run_probe(probe, module)["seconds"]
            whole_process.setdefault(module if probe == "cold_start" else probe, []).append(
                time.perf_counter() - start
            )
            return seconds

        return measure

    runs = {floor: sample(floor, modules[0]) for floor in FLOORS}
    runs.update({module: sample("cold_start", module) for module in modules})
    medians = {name: median(values) for name, values in interleaved(runs, rounds=rounds).items()}
    floor, library_floor = (medians[name] for name in FLOORS)
    ratios = {module: medians[module] / floor for module in modules}
    # The workers differ by their action's name only, so the spread between them is the machine's noise: the
    # median across functions is the figure, the worst is shown beside it.
    typical = median(list(ratios.values()))
    worst = max(modules, key=ratios.__getitem__)
    return [
        Figure(
            name="cold start / floor, median across functions",
            measured=f"{typical:.2f}x",
            goal=f"<= {GOAL_RATIO}x",
            met=typical <= GOAL_RATIO,
            details=(
                f"median of {rounds} fresh processes each: import + settings + the first record's clients, "
                "interpreter start-up excluded",
                f"floor (import boto3; boto3.client('cognito-idp')): {_ms(floor)}",
                f"library floor (boto3 + 3 clients, pydantic, Powertools + X-Ray): {_ms(library_floor)}, "
                f"{library_floor / floor:.2f}x the floor",
                *(f"{short_name(name)}: {_ms(medians[name])}, {ratios[name]:.2f}x" for name in modules),
                f"worst: {short_name(worst)} {ratios[worst]:.2f}x",
                f"whole process incl. interpreter start-up: floor {_ms(median(whole_process['floor']))}, "
                f"{short_name(worst)} {_ms(median(whole_process[worst]))}",
            ),
        ),
        Figure(
            name="cold start / library floor, median across functions",
            measured=f"{median([medians[module] for module in modules]) / library_floor:.2f}x",
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
