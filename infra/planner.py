"""The lifecycle planner: a queue-fed function (infra/consumer.py) that turns HR events into ordered commands.

Its queue is fed by three rules (infra/routing.py): HR lifecycle events, the outcomes of its own steps and
the operator's release of the deprovisioning hold. It keeps each person's state in the lifecycle table,
publishes commands (source = the planner's command source) and audit events (source = the outcome source)
on the bus, and schedules a leaver's deletion with EventBridge Scheduler. It never calls Cognito: its role
holds no cognito-idp action.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cognito_workers.catalog import PLANNER
from infra.config import WorkerTuning
from infra.consumer import ConsumerShared, QueueFedFunction
from infra.deletions import SCHEDULER_SERVICE, ScheduledDeletions
from infra.nag import acknowledge, finding_arn
from infra.tables import LifecycleTable


@dataclass(frozen=True, kw_only=True)
class LeaverThreshold:
    """More deprovisionings than `threshold` within `window_minutes` puts the rest on hold."""

    threshold: int
    window_minutes: int


class LifecyclePlanner(QueueFedFunction):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tuning: WorkerTuning,
        maximum_concurrency: int,
        shared: ConsumerShared,
        table: LifecycleTable,
        delete_queue: sqs.IQueue,
        delete_dead_letter_queue: sqs.IQueue,
        deletions: ScheduledDeletions,
        leavers: LeaverThreshold,
        lane: bool = False,
    ) -> None:
        """`lane`: the planner's lock-out lane (leavers and their lock-out outcomes), not its main one."""
        super().__init__(
            scope,
            construct_id,
            name=PLANNER.lock_out_lane_name if lane else PLANNER.name,
            handler=PLANNER.lock_out_lane_handler if lane else PLANNER.handler,
            description="Cognito lifecycle planner"
            + (", lock-out lane: leavers first" if lane else ": HR events to ordered commands")
            + " (SQS-triggered)",
            role_description="Lifecycle planner: its queues, its state, commands and audit events, deletion"
            " schedules in its group; no Cognito action",
            statements=_planner_statements(shared, table, deletions),
            environment={
                "LIFECYCLE_TABLE_NAME": table.table.table_name,
                "DELETE_QUEUE_ARN": delete_queue.queue_arn,
                "DELETE_DEAD_LETTER_QUEUE_ARN": delete_dead_letter_queue.queue_arn,
                "SCHEDULER_ROLE_ARN": deletions.role.role_arn,
                "SCHEDULE_GROUP_NAME": deletions.group_name,
                "LEAVER_THRESHOLD": str(leavers.threshold),
                "LEAVER_WINDOW_MINUTES": str(leavers.window_minutes),
            },
            tuning=tuning,
            maximum_concurrency=maximum_concurrency,
            shared=shared,
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::{finding_arn(service='scheduler', resource=deletions.schedules)}]",
            "The planner creates a one-time schedule per leaver, named at run time from the username"
            " (lifecycle/schedules.py), so the schedules' ARNs cannot be listed: the wildcard is the schedule"
            " name within the stack's own deletion schedule group, and nothing else of the account.",
        )


def _planner_statements(
    shared: ConsumerShared, table: LifecycleTable, deletions: ScheduledDeletions
) -> list[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(
            sid="KeepLifecycleState",
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            resources=[table.table.table_arn],
        ),
        shared.publish_statement(
            "PublishCommandsAndAuditEvents", PLANNER.command_source, shared.outcome_event_source
        ),
        iam.PolicyStatement(
            sid="ScheduleDeletionsInItsGroup",
            actions=["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
            resources=[deletions.schedules_arn],
        ),
        iam.PolicyStatement(
            sid="PassTheSchedulerRole",
            actions=["iam:PassRole"],
            resources=[deletions.role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": SCHEDULER_SERVICE}},
        ),
    ]
