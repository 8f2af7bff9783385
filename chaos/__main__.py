"""`python -m chaos [JOINERS]` (`make chaos`): every scenario of chaos.scenarios on a roster of JOINERS
(400: about 1,800 commands each, over 10,000 in all), one table of invariants; exit status 1 if any fails."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.table import Table

from chaos.scenarios import SCENARIOS, ScenarioResult, run_in_own_process

FULL_JOINERS = 400


def table(results: list[ScenarioResult]) -> Table:
    table = Table(title="chaos: invariants per scenario")
    columns = (
        "scenario",
        "commands",
        "deliveries",
        "faults",
        "lost",
        "dup. effects",
        "redriven",
        "DLQ (expected)",
    )
    for column in (*columns, "secrets found (known, scanned)", "seconds"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for result in results:
        table.add_row(
            result.scenario,
            str(result.commands),
            str(result.deliveries),
            str(result.faults_injected),
            str(result.lost),
            str(result.duplicated_effects),
            str(result.redriven),
            f"{result.dead_lettered} ({result.expected_dead_lettered})",
            f"{result.secrets_found} ({result.secrets_known}, {result.artifacts_scanned})",
            f"{result.seconds:.0f}",
        )
    total = sum(result.commands for result in results)
    table.caption = f"{total} commands in all"
    return table


def main(joiners: int) -> int:
    console = Console(width=160)
    started = time.perf_counter()
    results = []
    for index, scenario in enumerate(SCENARIOS):
        with console.status(f"{scenario.name}: {joiners} joiners"):
            results.append(run_in_own_process(index, joiners))
        for finding in results[-1].findings:
            console.print(f"  {scenario.name}: {finding}")
    console.print(table(results))
    console.print(f"{time.perf_counter() - started:.0f} s in all")
    return 0 if all(result.holds for result in results) else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else FULL_JOINERS))
