"""HR events from a file, validated before anything is published: a JSON list of events, or a CSV roster.

JSON: `[{"type": "EmployeeOnboarded", "detail": {...}}, ...]` (a single object is one event).
CSV: a header row with `type` and the event's fields; `groups` is `;`-separated, `attributes` is
`name=value;...` (an empty value deletes), `sendInvitation` is true/false, `deleteAfterDays` an integer;
empty cells are left out.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cognito_workers.errors import CommandRejected
from cognito_workers.lifecycle.events import parse_lifecycle_event


@dataclass(frozen=True)
class HrEventRecord:
    detail_type: str
    detail: dict[str, Any]


class HrFileError(Exception):
    """The file or one of its events is unusable; the message names where and why."""


def read_hr_events(path: Path) -> list[HrEventRecord]:
    if not path.is_file():
        raise HrFileError(f"{path}: no such file")
    records = _read_csv(path) if path.suffix.lower() == ".csv" else _read_json(path)
    problems = []
    for number, record in enumerate(records, start=1):
        try:
            parse_lifecycle_event(record.detail_type, record.detail)
        except CommandRejected as rejection:
            problems.append(f"{path}: event {number}: {rejection.message}")
    if problems:
        raise HrFileError("\n".join(problems))
    return records


def _read_json(path: Path) -> list[HrEventRecord]:
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise HrFileError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    items = content if isinstance(content, list) else [content]
    records = []
    for number, item in enumerate(items, start=1):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("type"), str)
            and isinstance(item.get("detail"), dict)
        ):
            raise HrFileError(f"{path}: event {number}: needs a string 'type' and an object 'detail'")
        records.append(HrEventRecord(item["type"], item["detail"]))
    return records


def _read_csv(path: Path) -> list[HrEventRecord]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = []
    for number, row in enumerate(rows, start=1):
        detail_type = (row.pop("type", "") or "").strip()
        if not detail_type:
            raise HrFileError(f"{path}: row {number}: the 'type' column is empty")
        try:
            records.append(HrEventRecord(detail_type, _detail_from_row(row)))
        except ValueError as error:
            raise HrFileError(f"{path}: row {number}: {error}") from None
    return records


def _detail_from_row(row: dict[str, str | None]) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for column, raw in row.items():
        value = (raw or "").strip()
        if not value or column is None:
            continue
        if column == "groups":
            detail[column] = [group.strip() for group in value.split(";") if group.strip()]
        elif column == "attributes":
            detail[column] = dict(_attribute(pair) for pair in value.split(";") if pair.strip())
        elif column in ("sendInvitation", "dryRun"):
            if value.lower() not in ("true", "false"):
                raise ValueError(f"{column}: {value!r} is not true or false")
            detail[column] = value.lower() == "true"
        elif column in ("deleteAfterDays", "sequence"):
            if not value.isdigit():
                raise ValueError(f"{column}: {value!r} is not a whole number")
            detail[column] = int(value)
        else:
            detail[column] = value
    return detail


def _attribute(pair: str) -> tuple[str, str | None]:
    name, separator, value = pair.partition("=")
    if not separator or not name.strip():
        raise ValueError(f"attributes: {pair!r} is not name=value")
    return name.strip(), value.strip() or None
