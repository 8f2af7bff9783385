"""The command bus: a custom EventBridge bus, its archive, its resource policy and the rule per action.

Commands arrive with detail-type = the action's name and a source from the allow-list; a rule per action
routes them to the action's queue. The same bus carries the workers' outcome events (source
`outcomeEventSource`), which the HR system subscribes to; the archive keeps the commands for replay.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class CommandBus(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus_name: str,
        command_sources: Sequence[str],
        archive_retention_days: int,
        target_max_event_age_seconds: int,
        target_retry_attempts: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self._command_sources = list(command_sources)
        self._target_max_event_age_seconds = target_max_event_age_seconds
        self._target_retry_attempts = target_retry_attempts
        self.bus_name = bus_name
        # The ARN spelled from the name, not read from the resource: the bus's policy names the worker
        # roles, whose policies name the bus; a reference both ways would be a cycle.
        self.bus_arn = cdk.Stack.of(self).format_arn(
            service="events", resource="event-bus", resource_name=bus_name
        )
        self.bus = events.CfnEventBus(
            self, "Bus", name=bus_name, description="Cognito lifecycle commands and their outcomes"
        )
        # Replaying a command is safe: the workers run each idempotency key at most once.
        self.archive = events.CfnArchive(
            self,
            "CommandArchive",
            source_arn=self.bus.attr_arn,
            event_pattern={"source": self._command_sources},
            retention_days=archive_retention_days,
            description="Commands received from the allowed sources, for replay (0 days: kept indefinitely)",
        )

    def allow_publishers(self, *, publishers: Sequence[str], worker_role_arns: Sequence[str]) -> None:
        """Let only the configured principals (and the workers, for their outcome events) put events.

        `publishers` are account ids or IAM principal ARNs; none means the deploying account. Allowed
        accounts still need IAM permission from their own administrators; everyone else is denied.
        """
        arns = [p for p in publishers if p.startswith("arn:")]
        accounts = [p for p in publishers if not p.startswith("arn:")] if publishers else [cdk.Aws.ACCOUNT_ID]
        principals: list[iam.IPrincipal] = [iam.AccountPrincipal(a) for a in accounts]
        principals += [iam.ArnPrincipal(arn) for arn in arns]
        allow = iam.PolicyStatement(
            sid="ConfiguredPublishersPutEvents",
            principals=principals,
            actions=["events:PutEvents"],
            resources=[self.bus_arn],
        )
        not_allowed: dict[str, dict[str, list[str]]] = {
            "ArnNotLike": {"aws:PrincipalArn": [*arns, *worker_role_arns]}
        }
        if accounts:
            not_allowed["StringNotEquals"] = {"aws:PrincipalAccount": accounts}
        deny_others = iam.PolicyStatement(
            sid="OnlyConfiguredPublishersPutEvents",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["events:PutEvents"],
            resources=[self.bus_arn],
            conditions=not_allowed,
        )
        self.bus.policy = iam.PolicyDocument(statements=[allow, deny_others])

    def route(self, *, action: str, queue: sqs.IQueue, dead_letter_queue: sqs.IQueue) -> events.CfnRule:
        """The action's rule: its commands from the allowed sources go to its queue.

        Events EventBridge cannot deliver (after the retry policy) go to the action's own DLQ, beside the
        commands its worker gave up on: one place to alarm on and one redrive path, since the worker reads
        both an SQS command and an EventBridge event.
        """
        rule = events.CfnRule(
            self,
            f"{action}Rule",
            description=f"{action} commands to their queue",
            event_bus_name=self.bus.ref,
            event_pattern={"source": self._command_sources, "detail-type": [action]},
            state="ENABLED",
            targets=[
                events.CfnRule.TargetProperty(
                    id="ActionQueue",
                    arn=queue.queue_arn,
                    dead_letter_config=events.CfnRule.DeadLetterConfigProperty(
                        arn=dead_letter_queue.queue_arn
                    ),
                    retry_policy=events.CfnRule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=self._target_max_event_age_seconds,
                        maximum_retry_attempts=self._target_retry_attempts,
                    ),
                )
            ],
        )
        for target in (queue, dead_letter_queue):
            target.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"{action}RuleSendsMessages",
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[target.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": rule.attr_arn}},
                )
            )
        return rule
