"""The stack's reconciler function: each snapshot put in the snapshot bucket reaches it as S3's EventBridge
notification (`Object Created`), through its queue. It reconciles the object against the pool, as the
operator CLI does with a file, and writes the run's report and summary under `reports/` in the same bucket.

An object it cannot reconcile at all (outside the snapshot prefix, larger than the configured size, a key it
does not take, a snapshot refused whole) is refused: dead-lettered with the reason and audited as
`ReconciliationRefused`, nothing applied. Every run is audited: `ReconciliationCompleted` (status Completed,
or DryRun when the deployment does not apply snapshots) or `ReconciliationHeld`, counted as a metric named
like its detail-type (the held-run alarm watches `ReconciliationHeld`). A run delivered twice publishes the
same repairs with the same event ids, which the planner plans once.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Annotated, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, Json, ValidationError

from cognito_workers.catalog import RECONCILER
from cognito_workers.consumer import Delivery, QueueConsumer
from cognito_workers.contracts import OutcomeError
from cognito_workers.errors import CommandRejected, describe_validation_error, error_code
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.records import BucketRecords
from cognito_workers.reconcile.run import Reconciler
from cognito_workers.reconcile.snapshot import SnapshotRefused
from cognito_workers.settings import ConsumerSettings

# S3 URL-encodes some characters of a key in its notifications: keys of these characters only arrive as
# they were written.
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9/._=-]+$")


class ReconcilerSettings(ConsumerSettings):
    """The reconciler function's environment: where snapshots arrive, what a run may do, its read rate.
    Here rather than in settings.py, so that no other function loads the reconciliation policy."""

    snapshot_bucket: str = Field(alias="SNAPSHOT_BUCKET", min_length=3)
    snapshot_prefix: str = Field(alias="SNAPSHOT_PREFIX", min_length=1)
    max_snapshot_bytes: Annotated[int, Field(ge=1)] = Field(alias="MAX_SNAPSHOT_BYTES")
    # false: each snapshot is a dry run (the report and ReconciliationCompleted, status DryRun).
    apply_snapshots: bool = Field(alias="APPLY_SNAPSHOTS")
    policy: Json[ReconciliationPolicy] = Field(alias="RECONCILIATION_POLICY")
    # The share of the UserList quota one run reads at: its rate over Cognito's default, split between
    # the runs the event source may start at once.
    quota_scale: Annotated[float, Field(gt=0, le=40)] = Field(alias="RECONCILER_QUOTA_SCALE")


class _Bucket(BaseModel):
    name: str


class _Object(BaseModel):
    key: str
    size: int = Field(ge=0)


class _ObjectCreatedDetail(BaseModel):
    bucket: _Bucket
    object: _Object


class ObjectCreated(BaseModel):
    """S3's EventBridge notification of a new object, as far as the reconciler reads it."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    detail_type: Literal["Object Created"] = Field(alias="detail-type")
    detail: _ObjectCreatedDetail


class SnapshotAudit(BaseModel):
    """The detail of `ReconciliationRefused` and `ReconciliationFailed`: the object and why."""

    model_config = ConfigDict(populate_by_name=True)

    bucket: str | None = None
    key: str | None = None
    message_id: str = Field(alias="messageId")
    error: OutcomeError


class SnapshotReconciler:
    """The work of the reconciler's SQS-triggered function (its `consumer`)."""

    def __init__(self) -> None:
        self.consumer = QueueConsumer(
            RECONCILER.name,
            work=self,
            settings_model=ReconcilerSettings,
            rejected_outcome=RECONCILER.refused_detail_type,
            failed_outcome=RECONCILER.failed_detail_type,
        )
        self.handler = self.consumer.handler

    def process(self, delivery: Delivery) -> None:
        notification = _notification(delivery)
        bucket, key = notification.detail.bucket.name, notification.detail.object.key
        delivery.identify(correlation_id=notification.id)
        settings = self.consumer.configured_settings()
        _check_object(settings, bucket, key, notification.detail.object.size)
        clients = self.consumer.clients
        try:
            body = clients.s3.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as error:
            if error_code(error) == "NoSuchKey":  # deleted since (or expired): nothing to reconcile
                raise CommandRejected("SnapshotGone", f"{key}: no longer in the bucket") from None
            raise
        reconciler = Reconciler(
            cognito=clients.cognito_idp,
            events=clients.events,
            user_pool_id=settings.user_pool_id,
            event_bus_name=settings.event_bus_name,
            outcome_event_source=settings.outcome_event_source,
            policy=settings.policy,
            records=BucketRecords(clients.s3, bucket),
            quota_scale=settings.quota_scale,
        )
        try:
            run = reconciler.reconcile(key, codecs.getreader("utf-8")(body), apply=settings.apply_snapshots)
        except SnapshotRefused as refused:
            raise CommandRejected("SnapshotRefused", f"{key}: {refused}; nothing was applied") from None
        except UnicodeDecodeError as error:
            raise CommandRejected("SnapshotRefused", f"{key}: not UTF-8 text ({error.reason})") from None
        outcome = run.outcome
        log = {"run_id": outcome.run_id, "status": outcome.status, "counts": outcome.counts}
        if outcome.status == "DryRun":
            # A dry run publishes nothing of its own (the CLI prints it): here it is the run's audit.
            self.consumer.outcomes.publish(RECONCILER.completed_detail_type, outcome, **log)
            return
        held = outcome.status == "Held"
        published = RECONCILER.held_detail_type if held else RECONCILER.completed_detail_type
        self.consumer.outcomes.published(published, **log)

    def failure_detail(self, delivery: Delivery, error: OutcomeError) -> SnapshotAudit:
        detail = (delivery.envelope or {}).get("detail")
        bucket = key = None
        if isinstance(detail, dict):
            bucket = _text_at(detail, "bucket", "name")
            key = _text_at(detail, "object", "key")
        return SnapshotAudit(bucket=bucket, key=key, message_id=delivery.record.message_id, error=error)


def _notification(delivery: Delivery) -> ObjectCreated:
    try:
        body = json.loads(delivery.record.body)
    except json.JSONDecodeError as error:
        raise CommandRejected("MalformedJson", f"body: not valid JSON ({error.msg})") from None
    if isinstance(body, dict):
        delivery.envelope = body
    try:
        return ObjectCreated.model_validate(body)
    except ValidationError as error:
        raise CommandRejected("InvalidEvent", describe_validation_error(error)) from None


def _check_object(settings: ReconcilerSettings, bucket: str, key: str, size: int) -> None:
    if bucket != settings.snapshot_bucket:
        raise CommandRejected(
            "NotTheSnapshotBucket", f"detail.bucket.name: {bucket!r} is not the snapshot bucket"
        )
    if not key.startswith(settings.snapshot_prefix):
        raise CommandRejected(
            "OutsideSnapshotPrefix", f"{key}: outside the snapshot prefix {settings.snapshot_prefix!r}"
        )
    if not _PLAIN_KEY.match(key):
        raise CommandRejected(
            "SnapshotKeyNotPlain", f"{key}: a snapshot's key is letters, digits and / . _ = - only"
        )
    if size > settings.max_snapshot_bytes:
        raise CommandRejected(
            "SnapshotTooLarge",
            f"{key}: {size} bytes, over the {settings.max_snapshot_bytes} bytes a snapshot may have",
        )


def _text_at(detail: dict[str, object], outer: str, inner: str) -> str | None:
    part = detail.get(outer)
    value = part.get(inner) if isinstance(part, dict) else None
    return value if isinstance(value, str) else None
