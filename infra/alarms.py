"""Alarms to an encrypted SNS topic: every DLQ's depth, every queue consumer's errors and throttles, the
planner's deprovisioning hold and its lock-out SLO, and a reconciliation held by its safety check.

A message in a DLQ is an input given up on (permanently rejected, retries exhausted, or undeliverable by
EventBridge): someone has to look at it, so one message is enough. The consumers catch their records'
failures, so a function error means a crash or a timeout; a throttle means the account's concurrency ran
out under the event source's maximum concurrency. The hold alarm says that more leavers arrived than the
threshold allows: their deprovisioning waits for an operator's release.
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

from cognito_workers.catalog import PLANNER, RECONCILER
from cognito_workers.lifecycle.state import TIME_TO_LOCK_OUT
from infra.consumer import METRICS_NAMESPACE, SERVICE_NAME, QueueFedFunction

# The planner's audit event when a leaver's plan is put on hold (lifecycle/state.py): the planner counts
# every audit event in a metric named like its detail-type (QueueConsumer.publish).
HOLD_METRIC = "PlanHeld"


class Alarms(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, alarm_name_prefix: str, key: kms.IKey, email: str
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = alarm_name_prefix
        self.topic = sns.Topic(
            self, "Topic", display_name="Cognito lifecycle alarms", master_key=key, enforce_ssl=True
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

    def watch(self, consumer: QueueFedFunction) -> None:
        """Its DLQ's depth, its function's errors and throttles."""
        name = consumer.name
        self._alarm(
            f"{name}DeadLetters",
            name=f"{self._prefix}-{name}-dead-letters",
            description=f"{name}: inputs in the dead-letter queue (rejected, failed or undeliverable)",
            metric=consumer.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
        )
        self._alarm(
            f"{name}Errors",
            name=f"{self._prefix}-{name}-errors",
            description=f"{name}: the function failed (crash or timeout)",
            metric=consumer.function.metric_errors(
                period=cdk.Duration.minutes(5), statistic=cloudwatch.Stats.SUM
            ),
        )
        self._alarm(
            f"{name}Throttles",
            name=f"{self._prefix}-{name}-throttles",
            description=f"{name}: invocations of the function were throttled",
            metric=consumer.function.metric_throttles(
                period=cdk.Duration.minutes(5), statistic=cloudwatch.Stats.SUM
            ),
        )

    def watch_hold(self, planner: QueueFedFunction) -> cloudwatch.Alarm:
        """At least one leaver put on hold in 5 minutes: the planner's PlanHeld count, with the dimensions
        its metrics carry (action = the planner's name, service = the Powertools service name)."""
        return self._alarm(
            "DeprovisioningHoldActive",
            name=f"{self._prefix}-{planner.name}-hold-active",
            description=(
                "Deprovisioning hold active: more leavers than leaverThreshold within leaverWindowMinutes."
                " Their deprovisioning waits: check the HR feed, then release it (docs/deploy.md)."
            ),
            metric=_planner_metric(HOLD_METRIC, cloudwatch.Stats.SUM),
        )

    def watch_lock_out(self, *, slo_seconds: int) -> cloudwatch.Alarm:
        """A leaver locked out later than the SLO (lockOutSloSeconds) after its HR event, in 5 minutes: the
        planner's TimeToLockOut, whichever of its functions (main or lock-out lane) emitted it."""
        return self._alarm(
            "LockOutSloMissed",
            name=f"{self._prefix}-lock-out-slo-missed",
            description=(
                f"A leaver was disabled and signed out more than {slo_seconds} s after its HR event"
                " (lockOutSloSeconds): a backlog, throttling or a stalled lock-out step (docs/deploy.md)."
            ),
            metric=_planner_metric(TIME_TO_LOCK_OUT, cloudwatch.Stats.MAXIMUM),
            threshold=slo_seconds,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )

    def watch_held_reconciliation(self) -> cloudwatch.Alarm:
        """At least one reconciliation held by its safety check in 5 minutes: the reconciler's
        ReconciliationHeld count (a metric named like the audit event, as every consumer counts them)."""
        return self._alarm(
            "ReconciliationHeld",
            name=f"{self._prefix}-reconciliation-held",
            description=(
                "A reconciliation was held by its safety check: it would deprovision too many users, or the"
                " snapshot is too short or has too many bad rows. Nothing was applied: review its report,"
                " then release it or put a corrected snapshot (docs/deploy.md)."
            ),
            metric=_consumer_metric(RECONCILER.name, RECONCILER.held_detail_type, cloudwatch.Stats.SUM),
        )

    def _alarm(
        self,
        construct_id: str,
        *,
        name: str,
        description: str,
        metric: cloudwatch.IMetric,
        threshold: float = 1,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        return alarm


def _planner_metric(name: str, statistic: str) -> cloudwatch.Metric:
    """One of the planner's EMF metrics, whichever of its functions (main or lock-out lane) emitted it: both
    carry the planner's name."""
    return _consumer_metric(PLANNER.name, name, statistic)


def _consumer_metric(consumer: str, name: str, statistic: str) -> cloudwatch.Metric:
    """One of a consumer's EMF metrics over 5 minutes, with the dimensions its metrics carry (action = the
    consumer's name, service = the Powertools service name)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"action": consumer, "service": SERVICE_NAME},
        period=cdk.Duration.minutes(5),
        statistic=statistic,
    )
