"""Reading an HR snapshot: CSV or JSON Lines, streamed row by row (memory does not grow with the rows read:
the ids seen, which a duplicate is told by, are kept in a scratch database).

A row is an EmployeeOnboarded's detail (the joiner's fields) and may carry `terminationDate`: a row whose
termination date has come is a leaver, not a current employee. In CSV, `groups` holds the group names
separated by `;` (an empty cell: no group), `sendInvitation` is `true` or `false` (default `false`: a
reconciliation sends no invitation unless the snapshot asks), any other empty cell is a field not given, and
any other column is an attribute of the user (an HR name, as in the joiner's `attributes`). Only what a row
gives is compared with the pool: without a `groups` column (or key), groups are left as they are.

A snapshot that cannot be read as a whole (a required column missing, a line that is not JSON) is refused
with the line and the reason (SnapshotRefused). A row that can be read but is wrong (an invalid email, a
duplicate employeeId) is a BadRow, reported with its line and skipped.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from cognito_workers.errors import CommandRejected
from cognito_workers.lifecycle.events import EmployeeOnboarded, parse_lifecycle_event
from cognito_workers.reconcile.scratch import scratch_database

SnapshotFormat = Literal["csv", "jsonl"]
REQUIRED_COLUMNS = ("employeeId", "email")
TERMINATION_DATE = "terminationDate"
# Columns that are fields of the joiner, not attributes; everything else in a CSV header is an attribute.
_JOINER_FIELDS = frozenset(
    field.alias or name for name, field in EmployeeOnboarded.model_fields.items() if name != "attributes"
)
_LIST_SEPARATOR = ";"
# The line of each employeeId and username read, by field name.
_SEEN_SCHEMA = "CREATE TABLE seen (field TEXT, key TEXT, line INTEGER, PRIMARY KEY (field, key));"


class SnapshotRefused(Exception):
    """The snapshot cannot be reconciled at all: nothing is applied."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Row:
    """A valid row: a current employee (`joiner` is their desired state) or a terminated one."""

    line: int
    joiner: EmployeeOnboarded
    terminated: bool

    @property
    def employee_id(self) -> str:
        return self.joiner.employee_id

    @property
    def username(self) -> str:
        return self.joiner.cognito_username


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str
    employee_id: str | None = None


def format_of(name: str) -> SnapshotFormat:
    """The format a file or object name says: `.csv`, or `.jsonl` / `.ndjson` (JSON Lines)."""
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise SnapshotRefused(0, f"{name!r}: a snapshot is a .csv or a .jsonl (JSON Lines) file")


class Snapshot:
    """The rows of one snapshot as they are read; `digest` (SHA-256 of its bytes as text) and the counts are
    complete once the rows have been read through."""

    def __init__(
        self, lines: Iterable[str], snapshot_format: SnapshotFormat, *, today: datetime.date
    ) -> None:
        self._lines = lines
        self._format = snapshot_format
        self._today = today
        self._hash = hashlib.sha256()
        self._seen = scratch_database(self, _SEEN_SCHEMA)
        self.rows = 0
        self.bad_rows = 0

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def __iter__(self) -> Iterator[Row | BadRow]:
        records = self._csv_records() if self._format == "csv" else self._json_records()
        for line, record in records:
            self.rows += 1
            row = self._row(line, record)
            if isinstance(row, BadRow):
                self.bad_rows += 1
            yield row

    def _hashed(self) -> Iterator[str]:
        for text in self._lines:
            self._hash.update(text.encode())
            yield text

    def _csv_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        reader = csv.reader(_without_bom(self._hashed()), strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise SnapshotRefused(1, "empty: a CSV snapshot starts with its header")
            missing = [name for name in REQUIRED_COLUMNS if name not in header]
            if missing:
                raise SnapshotRefused(1, f"the header lacks the required column(s) {', '.join(missing)}")
            duplicated = sorted({name for name in header if header.count(name) > 1})
            if duplicated:
                raise SnapshotRefused(1, f"the header names {', '.join(duplicated)} more than once")
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(header):
                    yield reader.line_num, {"": f"{len(cells)} cells, the header has {len(header)}"}
                    continue
                yield reader.line_num, _csv_record(header, cells)
        except csv.Error as error:
            raise SnapshotRefused(reader.line_num, f"not readable as CSV ({error})") from None

    def _json_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for line, text in enumerate(_without_bom(self._hashed()), start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                raise SnapshotRefused(line, f"not JSON ({error.msg} at column {error.colno})") from None
            if not isinstance(record, dict):
                raise SnapshotRefused(line, "not a JSON object: a JSON Lines snapshot has one object a line")
            yield line, record

    def _row(self, line: int, record: dict[str, Any]) -> Row | BadRow:
        if "" in record:  # a CSV line of the wrong width
            return BadRow(line, record[""])
        record = dict(record)
        employee_id = record.get("employeeId") if isinstance(record.get("employeeId"), str) else None
        try:
            terminated = self._terminated(record.pop(TERMINATION_DATE, None))
            joiner = parse_lifecycle_event("EmployeeOnboarded", {"sendInvitation": False, **record})
        except CommandRejected as rejection:
            return BadRow(line, rejection.message.replace("detail.", ""), employee_id)
        assert isinstance(joiner, EmployeeOnboarded)
        for name, key in (("employeeId", joiner.employee_id), ("username", joiner.cognito_username)):
            first = self._first_line(name, key, line)
            if first != line:
                return BadRow(line, f"{name}: {key!r} is already on line {first}", joiner.employee_id)
        return Row(line, joiner, terminated)

    def _first_line(self, name: str, key: str, line: int) -> int:
        """The line `key` was first read on as `name`: `line` if it is the first."""
        (first,) = self._seen.execute(
            "INSERT INTO seen VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET line = line RETURNING line",
            (name, key, line),
        ).fetchone()
        return int(first)

    def _terminated(self, value: Any) -> bool:
        if value is None:
            return False
        try:
            return datetime.date.fromisoformat(str(value)) <= self._today
        except ValueError:
            raise CommandRejected("InvalidRow", f"{TERMINATION_DATE}: not a date (YYYY-MM-DD)") from None


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    for number, text in enumerate(lines):
        yield text.removeprefix("\ufeff") if number == 0 else text


def _csv_record(header: list[str], cells: list[str]) -> dict[str, Any]:
    """A CSV row as the joiner's detail: empty cells left out, groups split, the rest as attributes."""
    record: dict[str, Any] = {}
    attributes: dict[str, str] = {}
    for name, cell in zip(header, cells, strict=True):
        value = cell.strip()
        if name == "groups":  # given when the column is: an empty cell is no group at all
            record[name] = [group.strip() for group in value.split(_LIST_SEPARATOR) if group.strip()]
        elif not value:
            continue
        elif name == "sendInvitation":
            record[name] = {"true": True, "false": False}.get(value.lower(), value)
        elif name in _JOINER_FIELDS or name == TERMINATION_DATE:
            record[name] = value
        else:
            attributes[name] = value
    if attributes:
        record["attributes"] = attributes
    return record
