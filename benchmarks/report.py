"""What every benchmark reports: a figure, its goal, and whether the goal is met, printed as one table."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """One measured figure. `measured` and `goal` are printed as given; `met` is None when there is no
    pass/fail goal (a rate to report). `details` are printed under the table, one line each."""

    name: str
    measured: str
    goal: str
    met: bool | None
    details: tuple[str, ...] = field(default=())


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def describe_machine() -> str:
    """The machine the figures come from: they mean little without it."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {load:.2f} at the start"
    )


def render(figures: Iterable[Figure]) -> str:
    figures = list(figures)
    verdict = {True: "met", False: "MISSED", None: "-"}
    rows = [("figure", "measured", "goal", "verdict")] + [
        (figure.name, figure.measured, figure.goal, verdict[figure.met]) for figure in figures
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    for figure in figures:
        lines.extend(f"  {figure.name}: {detail}" for detail in figure.details)
    return "\n".join(lines)
