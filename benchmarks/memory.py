"""Benchmark 3: peak memory of one function process working through batches.

One fresh process with the deployed environment runs AdminCreateUser batches through the real handler on
stubbed AWS clients (as benchmark 2) and reports its peak resident set size (getrusage ru_maxrss). A second
process that stops after one batch shows whether the peak grows with the work done; the floor process (boto3
and one client) shows what any Python function calling Cognito holds.
"""

from __future__ import annotations

import json

from benchmarks.child import REPO, run_probe
from benchmarks.per_record import HANDLER
from benchmarks.report import Figure, describe_machine, render

GOAL_MB = 128


def run(*, smoke: bool = False) -> list[Figure]:
    batch_count, batch_size = (2, 3) if smoke else (200, 10)
    peak = _megabytes(run_probe("batches", HANDLER, "handler", str(batch_count), str(batch_size)))
    one_batch = _megabytes(run_probe("batches", HANDLER, "handler", "1", str(batch_size)))
    floor = _megabytes(run_probe("floor", HANDLER))
    deployed = _deployed_memory_mb()
    return [
        Figure(
            name="peak RSS of one function process",
            measured=f"{peak:.0f} MB",
            goal=f"<= {GOAL_MB} MB",
            met=peak <= GOAL_MB,
            details=(
                f"AdminCreateUser, {batch_count} batches of {batch_size} records, stubbed AWS",
                f"after 1 batch: {one_batch:.0f} MB; floor process (boto3 + one client): {floor:.0f} MB",
                f"the stack gives each function {deployed} MB (cdk.json functionMemoryMb): the peak is "
                f"{peak / deployed:.0%} of it",
            ),
        )
    ]


def _megabytes(answer: dict[str, int]) -> float:
    return answer["maxrss_kb"] / 1024


def _deployed_memory_mb() -> int:
    """What the stack gives every function (cdk.json's context; actionOverrides may raise it per action)."""
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    return int(context["functionMemoryMb"])


if __name__ == "__main__":
    print(describe_machine())
    print(render(run()))
