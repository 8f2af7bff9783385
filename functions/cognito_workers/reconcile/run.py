"""One reconciliation run: read the pool, stream the snapshot through the diff, check the whole, then publish
the repairs (HR lifecycle events, source `cognito.lifecycle.reconciler`) for the planner, or hold them.

The safety check sees the whole snapshot before anything is published: a run that would deprovision more than
the policy's share of the managed users, whose snapshot has fewer rows than the policy's share of the last
applied one's, or more than its share of bad rows, is held (`ReconciliationHeld`): nothing is published,
and the run's report keeps its repairs for the operator to release after review (release()).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cognito_workers.catalog import RECONCILER
from cognito_workers.consumer import put_all
from cognito_workers.reconcile.diff import Differ, PersonDrift
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.pool import PacedReads, read_pool
from cognito_workers.reconcile.records import RunRecords
from cognito_workers.reconcile.snapshot import Snapshot, format_of

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

DRIFT_KINDS = (
    "joiner",
    "mover",
    "leaver",
    "rehire",
    "linked",
    "ambiguous",
    "unmanaged",
    "badRow",
    "unchanged",
)


class ReconciliationOutcome(BaseModel):
    """The detail of `ReconciliationCompleted` and `ReconciliationHeld`: one run's figures."""

    model_config = ConfigDict(populate_by_name=True)

    run_id: str = Field(alias="runId", description="Give it to `cognito-lifecycle reconcile --release`.")
    snapshot: str = Field(description="The snapshot's file or object name.")
    status: Literal["Completed", "Held", "DryRun"] = Field(
        description="`Completed`: the repairs are published; `Held`: nothing is, see `heldBecause`; "
        "`DryRun`: nothing is, as asked."
    )
    rows: int = Field(description="The snapshot's rows, bad ones included.")
    managed_users: int = Field(alias="managedUsers", description="The pool's users the lifecycle manages.")
    counts: dict[str, int] = Field(
        description="People per kind of drift: joiner, mover, leaver, rehire (each published as that HR "
        "event), linked (of those, matched by fallback and given their employeeId), ambiguous and unmanaged "
        "(left alone), badRow (skipped), unchanged."
    )
    held_because: list[str] = Field(
        default_factory=list, alias="heldBecause", description="Each safety check the run failed."
    )
    published: int = Field(description="HR events published for the planner.")
    cognito_calls: dict[str, int] = Field(
        alias="cognitoCalls", description="The reconciliation's reads of the pool, by operation."
    )
    report: str = Field(description="Where the per-person report (JSON Lines) is.")
    released: bool = Field(default=False, description="Applied by the operator's release of a held run.")


@dataclass(frozen=True)
class Run:
    outcome: ReconciliationOutcome
    drifts: list[PersonDrift]


class Reconciler:
    def __init__(
        self,
        *,
        cognito: CognitoIdentityProviderClient,
        events: EventBridgeClient,
        user_pool_id: str,
        event_bus_name: str,
        outcome_event_source: str,
        policy: ReconciliationPolicy,
        records: RunRecords,
        quota_scale: float = 1.0,
        today: datetime.date | None = None,
    ) -> None:
        self._cognito = cognito
        self._events = events
        self._user_pool_id = user_pool_id
        self._bus = event_bus_name
        self._outcome_source = outcome_event_source
        self._policy = policy
        self._records = records
        self._quota_scale = quota_scale
        self._today = today or datetime.datetime.now(datetime.UTC).date()

    def reconcile(self, snapshot_name: str, lines: Iterable[str], *, apply: bool) -> Run:
        """Diff the snapshot against the pool; with `apply`, publish the repairs unless the run is held."""
        snapshot = Snapshot(lines, format_of(snapshot_name), today=self._today)
        pool = read_pool(
            PacedReads(self._cognito, scale=self._quota_scale),
            user_pool_id=self._user_pool_id,
            policy=self._policy,
        )
        differ = Differ(pool, self._policy)
        drifts = list(differ.diff(snapshot))
        event_ids = [drift.event_id(snapshot.digest) for drift in drifts]
        run_id = "run-" + hashlib.sha256(json.dumps([snapshot.digest, *event_ids]).encode()).hexdigest()[:20]
        report_lines = [
            _report_line(run_id, drift, event_id) for drift, event_id in zip(drifts, event_ids, strict=True)
        ]
        report = self._records.write_report(run_id, report_lines)
        leavers = differ.counts["leaver"]
        held_because = self._safety_check(snapshot.rows, snapshot.bad_rows, leavers, pool.managed_users)
        outcome = ReconciliationOutcome(
            run_id=run_id,
            snapshot=snapshot_name,
            status="DryRun" if not apply else "Held" if held_because else "Completed",
            rows=snapshot.rows,
            managed_users=pool.managed_users,
            counts={kind: differ.counts[kind] for kind in DRIFT_KINDS},
            held_because=held_because,
            published=0,
            cognito_calls=dict(pool.calls),
            report=report,
        )
        if outcome.status == "Completed":
            outcome.published = self._publish_repairs(report_lines)
            self._records.record_applied(run_id, snapshot.rows)
        self._records.write_summary(run_id, outcome.model_dump(by_alias=True))
        if apply:
            self._publish_outcome(outcome)
        return Run(outcome, drifts)

    def release(self, run_id: str) -> ReconciliationOutcome:
        """Publish a held run's repairs, as its report keeps them, after the operator's review."""
        outcome = ReconciliationOutcome.model_validate(self._records.summary(run_id))
        if outcome.status != "Held":
            raise RunNotHeld(f"run {run_id} is {outcome.status}, not held: there is nothing to release")
        outcome.published = self._publish_repairs(self._records.report(run_id))
        outcome.status, outcome.released = "Completed", True
        self._records.record_applied(run_id, outcome.rows)
        self._records.write_summary(run_id, outcome.model_dump(by_alias=True))
        self._publish_outcome(outcome)
        return outcome

    def _safety_check(self, rows: int, bad_rows: int, leavers: int, managed_users: int) -> list[str]:
        policy = self._policy
        reasons = []
        if rows and bad_rows / rows > policy.max_bad_row_share:
            reasons.append(f"{bad_rows} of {rows} rows are bad, over {policy.max_bad_row_share:.0%}")
        if managed_users and leavers / managed_users > policy.max_deprovision_share:
            reasons.append(
                f"{leavers} of {managed_users} managed users would be deprovisioned, "
                f"over {policy.max_deprovision_share:.0%}"
            )
        previous = self._records.previous_rows()
        if previous and rows < policy.min_row_share * previous:
            reasons.append(
                f"{rows} rows against {previous} in the last applied snapshot, "
                f"under {policy.min_row_share:.0%}"
            )
        return reasons

    def _publish_repairs(self, report_lines: Iterable[dict[str, Any]]) -> int:
        entries: list[PutEventsRequestEntryTypeDef] = [
            {
                "Source": RECONCILER.event_source,
                "DetailType": line["detailType"],
                "Detail": json.dumps({**line["detail"], "eventId": line["eventId"]}),
                "EventBusName": self._bus,
            }
            for line in report_lines
            if line.get("detailType")
        ]
        self._put(entries)
        return len(entries)

    def _publish_outcome(self, outcome: ReconciliationOutcome) -> None:
        detail_type = (
            RECONCILER.held_detail_type if outcome.status == "Held" else RECONCILER.completed_detail_type
        )
        self._put(
            [
                {
                    "Source": self._outcome_source,
                    "DetailType": detail_type,
                    "Detail": outcome.model_dump_json(by_alias=True),
                    "EventBusName": self._bus,
                }
            ]
        )

    def _put(self, entries: list[PutEventsRequestEntryTypeDef]) -> None:
        put_all(self._events, entries)


class RunNotHeld(Exception):
    pass


def _report_line(run_id: str, drift: PersonDrift, event_id: str) -> dict[str, Any]:
    """One person's line of the report: the drift, and the repair as it is (or would be) published."""
    line: dict[str, Any] = {
        "runId": run_id,
        "kind": drift.kind,
        "employeeId": drift.employee_id,
        "username": drift.username,
        "line": drift.line,
        "changes": list(drift.changes),
    }
    if drift.detail_type is not None:
        line |= {"detailType": drift.detail_type, "eventId": event_id, "detail": drift.detail}
    return line
