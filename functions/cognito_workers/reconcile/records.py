"""Where a reconciliation keeps its runs: the per-person report (JSON Lines), the run's summary, and the row
count of the last applied snapshot (the safety check compares the next one with it).

Beside the snapshots, under `reports/`: for the operator CLI, in the directory of the snapshot file; for the
stack's reconciler function, in the snapshot bucket.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cognito_workers.errors import error_code

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REPORTS = "reports"
_LAST_APPLIED = f"{REPORTS}/last-applied.json"


class RunNotFound(Exception):
    pass


class RunRecords(ABC):
    def write_report(self, run_id: str, lines: Iterable[dict[str, Any]]) -> str:
        """Write the run's per-person report; returns where it is."""
        return self._write(f"{REPORTS}/{run_id}.jsonl", "".join(json.dumps(line) + "\n" for line in lines))

    def report(self, run_id: str) -> Iterator[dict[str, Any]]:
        text = self._read(f"{REPORTS}/{run_id}.jsonl")
        if text is None:
            raise RunNotFound(f"no report of run {run_id} at {self.location(REPORTS)}")
        return (json.loads(line) for line in text.splitlines() if line)

    def write_summary(self, run_id: str, summary: dict[str, Any]) -> None:
        self._write(f"{REPORTS}/{run_id}.summary.json", json.dumps(summary))

    def summary(self, run_id: str) -> dict[str, Any]:
        text = self._read(f"{REPORTS}/{run_id}.summary.json")
        if text is None:
            raise RunNotFound(f"no summary of run {run_id} at {self.location(REPORTS)}")
        return dict(json.loads(text))

    def previous_rows(self) -> int | None:
        """The row count of the last applied snapshot, if one was."""
        text = self._read(_LAST_APPLIED)
        return None if text is None else int(json.loads(text)["rows"])

    def record_applied(self, run_id: str, rows: int) -> None:
        self._write(_LAST_APPLIED, json.dumps({"runId": run_id, "rows": rows}))

    @abstractmethod
    def location(self, name: str) -> str: ...

    @abstractmethod
    def _write(self, name: str, text: str) -> str: ...

    @abstractmethod
    def _read(self, name: str) -> str | None: ...


class DirectoryRecords(RunRecords):
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def location(self, name: str) -> str:
        return str(self._directory / name)

    def _write(self, name: str, text: str) -> str:
        path = self._directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return str(path)

    def _read(self, name: str) -> str | None:
        path = self._directory / name
        return path.read_text() if path.exists() else None


class BucketRecords(RunRecords):
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def location(self, name: str) -> str:
        return f"s3://{self._bucket}/{name}"

    def _write(self, name: str, text: str) -> str:
        self._s3.put_object(Bucket=self._bucket, Key=name, Body=text.encode(), ContentType="application/json")
        return self.location(name)

    def _read(self, name: str) -> str | None:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=name)["Body"]
        except ClientError as error:
            if error_code(error) == "NoSuchKey":
                return None
            raise
        return body.read().decode()
