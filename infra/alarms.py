"""Alarms to an encrypted SNS topic: every DLQ's depth, and every worker's errors and throttles.

A message in a DLQ is a command given up on (permanently rejected, retries exhausted, or undeliverable by
EventBridge): someone has to look at it, so one message is enough. The workers catch their records'
failures, so a function error means a crash or a timeout; a throttle means the account's concurrency ran
out under the event source's maximum concurrency.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.worker import ActionWorker


class WorkerAlarms(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, alarm_name_prefix: str, key: kms.IKey, email: str
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = alarm_name_prefix
        self.topic = sns.Topic(
            self, "Topic", display_name="Cognito lifecycle worker alarms", master_key=key, enforce_ssl=True
        )
        # The topic policy replaces SNS's default one, so CloudWatch is let in explicitly: only this
        # account's alarms, and only those of this stack (by name).
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:{cdk.Aws.PARTITION}:cloudwatch:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}"
                            f":alarm:{alarm_name_prefix}-*"
                        )
                    },
                },
            )
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self._action = cloudwatch_actions.SnsAction(self.topic)

    def watch(self, worker: ActionWorker) -> None:
        action = worker.spec.name
        self._alarm(
            f"{action}DeadLetters",
            name=f"{self._prefix}-{action}-dead-letters",
            description=f"{action}: commands in the dead-letter queue (rejected, failed or undeliverable)",
            metric=worker.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
        )
        self._alarm(
            f"{action}Errors",
            name=f"{self._prefix}-{action}-errors",
            description=f"{action}: the worker function failed (crash or timeout)",
            metric=worker.function.metric_errors(
                period=cdk.Duration.minutes(5), statistic=cloudwatch.Stats.SUM
            ),
        )
        self._alarm(
            f"{action}Throttles",
            name=f"{self._prefix}-{action}-throttles",
            description=f"{action}: invocations of the worker function were throttled",
            metric=worker.function.metric_throttles(
                period=cdk.Duration.minutes(5), statistic=cloudwatch.Stats.SUM
            ),
        )

    def _alarm(self, construct_id: str, *, name: str, description: str, metric: cloudwatch.IMetric) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
