"""The result table: one row per check, with what was expected, what was seen and whether they agree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    OK = "ok"
    FAILED = "FAIL"
    # Not run, or expected to differ from AWS, because of a named gap of the emulator; never a failure.
    KNOWN_GAP = "gap"


@dataclass(frozen=True)
class Check:
    name: str
    expected: str
    actual: str
    verdict: Verdict

    @classmethod
    def compare(cls, name: str, expected: object, actual: object) -> Check:
        """A row that is ok when the two agree; both are shown as text."""
        verdict = Verdict.OK if expected == actual else Verdict.FAILED
        return cls(name, _text(expected), _text(actual), verdict)

    @classmethod
    def gap(cls, name: str, reason: str) -> Check:
        return cls(name, "-", reason, Verdict.KNOWN_GAP)


def _text(value: object) -> str:
    if isinstance(value, set | frozenset):
        return ", ".join(sorted(str(item) for item in value)) or "(none)"
    return str(value)


def render(checks: Iterable[Check], *, max_width: int = 100) -> str:
    """A plain-text table, columns sized to their content; a cell over `max_width` is cut with '...'."""
    header = ["check", "expected", "actual", "ok"]
    cells = [header] + [[check.name, check.expected, check.actual, check.verdict.value] for check in checks]
    rows = [[_cut(cell, max_width) for cell in row] for row in cells]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _cut(cell: str, max_width: int) -> str:
    return cell if len(cell) <= max_width else cell[: max_width - 3] + "..."


def failed(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if check.verdict is Verdict.FAILED]
