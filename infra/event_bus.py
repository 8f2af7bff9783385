"""The command bus: a custom EventBridge bus, its archive, its resource policy and its rules to the queues.

Commands arrive with detail-type = the action's name and a source from the allow-list; a rule per action
routes them to the action's queue. HR lifecycle events, the outcomes of the planner's steps and the
operator's release reach the planner's queue by three more rules (the patterns: infra/routing.py). The same
bus carries the outcome and audit events (source `outcomeEventSource`), which the HR system subscribes to;
the archive keeps the commands and the HR events for replay, but none that carries a secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cognito_workers.catalog import ACTIONS, ActionSpec
from infra.encryption import DataKey


def archive_event_pattern(sources: Sequence[str]) -> dict[str, Any]:
    """What the archive keeps: every event from `sources` except those carrying a secret param of the
    catalog (a password, a challenge answer, a session).

    An action whose secret params are all single strings keeps its events that carry none of them
    (AdminCreateUser without TemporaryPassword). Any other secret-bearing action is left out whole:
    EventBridge's `exists` tests leaf values only, so `"AuthParameters": [{"exists": false}]` would also
    match an AuthParameters object, that is every AdminInitiateAuth with its password.
    """
    secret_bearing = [spec for spec in ACTIONS if spec.secret_params]
    branches: list[dict[str, Any]] = [
        {"detail-type": [{"anything-but": [spec.name for spec in secret_bearing]}]}
    ]
    branches += [
        {
            "detail-type": [spec.name],
            "detail": {"params": {name: [{"exists": False}] for name in sorted(spec.secret_params)}},
        }
        for spec in secret_bearing
        if all(_is_string_param(spec, name) for name in spec.secret_params)
    ]
    return {"source": list(dict.fromkeys(sources)), "$or": branches}


def _is_string_param(spec: ActionSpec, name: str) -> bool:
    """Whether the action's params model takes `name` as one string (which it may leave out)."""
    field = spec.params_model.model_fields.get(name)
    if field is None:
        return False
    annotation = field.annotation
    members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    types = {get_args(member)[0] if get_origin(member) is Annotated else member for member in members}
    return (types - {NoneType}) == {str}


class CommandBus(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus_name: str,
        archived_sources: Sequence[str],
        archive_retention_days: int,
        archive_key: DataKey,
        target_max_event_age_seconds: int,
        target_retry_attempts: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self._target_max_event_age_seconds = target_max_event_age_seconds
        self._target_retry_attempts = target_retry_attempts
        self.bus_name = bus_name
        # The ARN spelled from the name, not read from the resource: the bus's policy names the functions'
        # roles, whose policies name the bus; a reference both ways would be a cycle.
        self.bus_arn = cdk.Stack.of(self).format_arn(
            service="events", resource="event-bus", resource_name=bus_name
        )
        self.bus = events.CfnEventBus(
            self, "Bus", name=bus_name, description="Cognito lifecycle commands and their outcomes"
        )
        # A replay is harmless only while the commands' idempotency records live (the workers run a key once
        # while its record lasts; the planner skips an HR event it already planned or one older than the
        # person's latest). Older, a command runs again: hence nothing secret is kept to be replayed.
        self.archive = events.CfnArchive(
            self,
            "CommandArchive",
            source_arn=self.bus.attr_arn,
            event_pattern=archive_event_pattern(archived_sources),
            retention_days=archive_retention_days,
            kms_key_identifier=archive_key.key.key_arn,
            description="Commands and HR events without secrets, for replay (0 days: kept indefinitely)",
        )
        archive_key.allow_event_bus_archive(bus_arn=self.bus_arn)

    def allow_publishers(self, *, publishers: Sequence[str], function_role_arns: Sequence[str]) -> None:
        """Let only the configured principals (and the stack's functions: the workers' outcome events, the
        planner's commands and audit events) put events.

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
            "ArnNotLike": {"aws:PrincipalArn": [*arns, *function_role_arns]}
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

    def route(
        self,
        *,
        name: str,
        description: str,
        pattern: Mapping[str, Any],
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
    ) -> events.CfnRule:
        """A rule (`name`, alphanumeric, names it in the template) from `pattern` to `queue`.

        Events EventBridge cannot deliver (after the retry policy) go to the queue's own DLQ, beside the
        inputs its function gave up on: one place to alarm on and one redrive path, since the functions read
        both an SQS message and an EventBridge event.
        """
        return queue_rule(
            self,
            name=name,
            event_bus_name=self.bus.ref,
            description=description,
            pattern=pattern,
            queue=queue,
            dead_letter_queue=dead_letter_queue,
            max_event_age_seconds=self._target_max_event_age_seconds,
            retry_attempts=self._target_retry_attempts,
        )


def queue_rule(
    scope: Construct,
    *,
    name: str,
    event_bus_name: str | None,
    description: str,
    pattern: Mapping[str, Any],
    queue: sqs.IQueue,
    dead_letter_queue: sqs.IQueue,
    max_event_age_seconds: int,
    retry_attempts: int,
) -> events.CfnRule:
    """A rule `<name>Rule` on a bus (None: the account's default bus) from `pattern` to `queue`, its
    undeliverable events to `dead_letter_queue`, each queue letting only this rule send."""
    rule = events.CfnRule(
        scope,
        f"{name}Rule",
        description=description,
        event_bus_name=event_bus_name,
        event_pattern=dict(pattern),
        state="ENABLED",
        targets=[
            events.CfnRule.TargetProperty(
                id="Queue",
                arn=queue.queue_arn,
                dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dead_letter_queue.queue_arn),
                retry_policy=events.CfnRule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=max_event_age_seconds,
                    maximum_retry_attempts=retry_attempts,
                ),
            )
        ],
    )
    for target in (queue, dead_letter_queue):
        target.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{name}RuleSendsMessages",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[target.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": rule.attr_arn}},
            )
        )
    return rule
