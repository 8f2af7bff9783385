"""A leaver's deletion after deleteAfterDays: the EventBridge Scheduler group the planner puts its one-time
schedules in, and the role the scheduler assumes to send each schedule's AdminDeleteUser command.

The planner creates, moves and cancels the schedules itself (functions/cognito_workers/lifecycle/
schedules.py), in this group only, passing this role; the role can do nothing but send a message to the
AdminDeleteUser queue, or to its DLQ when the queue cannot be reached. Deleting the group (with the
stack) deletes the deletions still pending.
"""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.encryption import DataKey

SCHEDULER_SERVICE = "scheduler.amazonaws.com"


class ScheduledDeletions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group_name: str,
        delete_queue: sqs.IQueue,
        delete_dead_letter_queue: sqs.IQueue,
        data_key: DataKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = scheduler.ScheduleGroup(
            self, "Group", schedule_group_name=group_name, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        # By reference, so that whatever names the group (the planner's environment) comes after it.
        self.group_name = cast(scheduler.CfnScheduleGroup, self.group.node.default_child).ref
        # The schedules of the group, whatever their name (the planner names one per person).
        self.schedules = f"schedule/{group_name}/*"
        self.schedules_arn = cdk.Stack.of(self).format_arn(
            service="scheduler", resource="schedule", resource_name=f"{group_name}/*"
        )
        # Confused-deputy prevention as the Scheduler guide advises: only schedules of this account's group.
        self.role = iam.Role(
            self,
            "Role",
            description="EventBridge Scheduler: sends a leaver's scheduled AdminDeleteUser command",
            assumed_by=iam.ServicePrincipal(
                SCHEDULER_SERVICE,
                conditions={
                    "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                    "ArnEquals": {"aws:SourceArn": self.group.schedule_group_arn},
                },
            ),
            inline_policies={
                "SendScheduledDeletions": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="SendToTheDeleteQueue",
                            actions=["sqs:SendMessage"],
                            # The queue, and its DLQ for a command the scheduler could not deliver.
                            resources=[delete_queue.queue_arn, delete_dead_letter_queue.queue_arn],
                        ),
                        data_key.use_statement(via=("sqs",)),
                    ]
                )
            },
        )
