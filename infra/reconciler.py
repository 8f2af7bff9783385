"""Reconciliation in the stack: an encrypted bucket for HR snapshots and the reconciler, a queue-fed function
(infra/consumer.py) that reconciles each snapshot put in it.

S3 sends the bucket's events to the account's default EventBridge bus (the bucket's EventBridge
notifications, set on the bucket itself: no custom resource); a rule there routes every new object of the
bucket but the reconciler's own reports to the reconciler's queue. Objects outside the snapshot prefix thus
reach the function, which refuses them with the reason (ReconciliationRefused) rather than ignore them
unseen. The function reads the pool (ListUsers, ListUsersInGroup) and publishes the repairs as HR events
for the planner; it never changes the pool itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cognito_workers.catalog import RECONCILER, QuotaCategory
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.records import REPORTS
from infra.concurrency import MIN_MAXIMUM_CONCURRENCY
from infra.config import ReconcilerKnobs, WorkerTuning
from infra.consumer import ConsumerShared, QueueFedFunction
from infra.event_bus import queue_rule
from infra.nag import acknowledge

# A snapshot is one run: one record per invocation, and no batching window to wait for.
_SNAPSHOTS_PER_INVOCATION = 1
_MEGABYTE = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ReconcilerInputs:
    """What the reconciler needs of the rest of the stack."""

    user_pool_arn: str
    user_list_requests_per_second: int
    target_max_event_age_seconds: int
    target_retry_attempts: int


class SnapshotReconciler(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        knobs: ReconcilerKnobs,
        policy: ReconciliationPolicy,
        inputs: ReconcilerInputs,
        shared: ConsumerShared,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Snapshots",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=shared.data_key.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=False,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(knobs.retention_days))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # CloudFormation's own switch; CDK's eventBridgeEnabled would add a custom resource to set it.
        bucket_resource = self.bucket.node.default_child
        assert isinstance(bucket_resource, s3.CfnBucket)
        bucket_resource.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Who read or wrote a snapshot is recorded by CloudTrail's S3 data events where the account"
            " enables them; server access logs would need a log bucket of their own for one bucket.",
        )
        # The runs the event source may start at once share the UserList quota between them.
        quota_scale = inputs.user_list_requests_per_second / (
            QuotaCategory.USER_LIST.requests_per_second * MIN_MAXIMUM_CONCURRENCY
        )
        self.function = QueueFedFunction(
            self,
            "Function",
            name=RECONCILER.name,
            handler=RECONCILER.handler,
            description="Cognito lifecycle reconciler: HR snapshots against the pool, drift repaired through"
            " the planner (SQS-triggered)",
            role_description="Reconciler: reads snapshots and writes reports in its bucket, lists the pool's"
            " users and groups, publishes repairs and audit events",
            statements=self._statements(inputs, shared),
            environment={
                "SNAPSHOT_BUCKET": self.bucket.bucket_name,
                "SNAPSHOT_PREFIX": knobs.snapshot_prefix,
                "MAX_SNAPSHOT_BYTES": str(knobs.max_snapshot_megabytes * _MEGABYTE),
                "APPLY_SNAPSHOTS": "true" if knobs.apply_snapshots else "false",
                "RECONCILIATION_POLICY": policy.model_dump_json(by_alias=True),
                "RECONCILER_QUOTA_SCALE": f"{quota_scale:g}",
            },
            tuning=WorkerTuning(
                function_timeout_seconds=knobs.function_timeout_seconds,
                function_memory_mb=knobs.function_memory_mb,
                batch_size=_SNAPSHOTS_PER_INVOCATION,
                max_batching_window_seconds=0,
            ),
            maximum_concurrency=MIN_MAXIMUM_CONCURRENCY,
            shared=shared,
        )
        stack = cdk.Stack.of(self)
        bucket_arn = f"<{stack.resolve(stack.get_logical_id(bucket_resource))}.Arn>"
        for objects, why in (
            ("*", "reads the snapshot named by each new object's event, and its own reports"),
            (f"{REPORTS}/*", "writes each run's report and summary, named at run time by the run's id"),
        ):
            acknowledge(
                self.function.role,
                f"AwsSolutions-IAM5[Resource::{bucket_arn}/{objects}]",
                f"The reconciler {why}: the object names are not known at deploy time, and the wildcard"
                " stays within the stack's own snapshot bucket.",
            )
        self.rule = queue_rule(
            self,
            name="SnapshotCreated",
            event_bus_name=None,
            description="New objects of the snapshot bucket (but the reconciler's reports) to the reconciler",
            pattern={
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [self.bucket.bucket_name]},
                    "object": {"key": [{"anything-but": {"prefix": f"{REPORTS}/"}}]},
                },
            },
            queue=self.function.queue,
            dead_letter_queue=self.function.dead_letter_queue,
            max_event_age_seconds=inputs.target_max_event_age_seconds,
            retry_attempts=inputs.target_retry_attempts,
        )

    def _statements(self, inputs: ReconcilerInputs, shared: ConsumerShared) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                sid="ReadSnapshotsAndReports",
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects("*")],
            ),
            # Without it, S3 answers a read of a missing object (no last applied run yet) AccessDenied, not
            # NoSuchKey; it lets the function list the bucket's keys, nothing more.
            iam.PolicyStatement(
                sid="TellMissingObjects",
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteReports",
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{REPORTS}/*")],
            ),
            shared.data_key.use_statement(via=("s3",)),
            iam.PolicyStatement(
                sid="ListThePool",
                actions=[f"cognito-idp:{read}" for read in RECONCILER.reads],
                resources=[inputs.user_pool_arn],
            ),
            shared.publish_statement(
                "PublishRepairsAndAuditEvents", RECONCILER.event_source, shared.outcome_event_source
            ),
        ]
