"""Provision, on the local endpoint, the resources the workers need: read from the action catalog and
configured by cdk.json's context, as the stack is.

Per action a queue with its DLQ and an EventBridge rule routing commands to it; the lifecycle planner's
queue, DLQ, rules and table; one bus, one idempotency table, one user pool with an app client, and a queue
collecting every audit event for local inspection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from cognito_workers.catalog import ACTIONS, PLANNER, ResourceNames
from cognito_workers.settings import PlannerSettings, WorkerSettings
from infra.routing import action_command_pattern, planner_input_patterns
from local_aws.context import cdk_context

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

_CONTEXT = cdk_context()
PREFIX: str = _CONTEXT["resourcePrefix"]
HR_SOURCES: tuple[str, ...] = tuple(_CONTEXT["hrEventSources"])
HR_SOURCE = HR_SOURCES[0]  # the one the demo and the CLI publish with
COMMAND_SOURCES: tuple[str, ...] = tuple(_CONTEXT["commandSources"])
OUTCOME_SOURCE: str = _CONTEXT["outcomeEventSource"]
OPERATOR_SOURCE: str = _CONTEXT["operatorEventSource"]
LEAVER_THRESHOLD: int = _CONTEXT["leaverThreshold"]
LEAVER_WINDOW_MINUTES: int = _CONTEXT["leaverWindowMinutes"]
MAX_RECEIVE_COUNT: int = _CONTEXT["maxReceiveCount"]
PLANNER_MAX_CONCURRENCY: int = _CONTEXT["plannerMaxConcurrency"]
SANDBOX_GROUPS: tuple[str, ...] = tuple(_CONTEXT["sandboxGroups"])
# Mutable string attributes that exist from the start; AddCustomAttributes adds more.
SANDBOX_CUSTOM_ATTRIBUTES: tuple[str, ...] = tuple(_CONTEXT["sandboxCustomAttributes"])
# EventBridge Scheduler assumes this role to send a scheduled deletion; moto does not check it.
SCHEDULER_ROLE_ARN = f"arn:aws:iam::123456789012:role/{PREFIX}-scheduler"


@dataclass(frozen=True)
class QueuePair:
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str


@dataclass(frozen=True)
class LocalDeployment:
    endpoint_url: str
    region: str
    user_pool_id: str
    app_client_id: str
    event_bus_name: str
    idempotency_table_name: str
    lifecycle_table_name: str
    outcomes_queue_url: str
    planner_queue: QueuePair
    queues: dict[str, QueuePair] = field(default_factory=dict)
    leaver_threshold: int = LEAVER_THRESHOLD

    def worker_settings(self, action: str) -> WorkerSettings:
        """What the stack puts in the environment of the action's function."""
        return WorkerSettings.model_validate(
            {
                "USER_POOL_ID": self.user_pool_id,
                "IDEMPOTENCY_TABLE_NAME": self.idempotency_table_name,
                "EVENT_BUS_NAME": self.event_bus_name,
                "DEAD_LETTER_QUEUE_URL": self.queues[action].dead_letter_url,
                "MAX_RECEIVE_COUNT": MAX_RECEIVE_COUNT,
                "OUTCOME_EVENT_SOURCE": OUTCOME_SOURCE,
            }
        )

    def planner_settings(self, *, leaver_threshold: int | None = None) -> PlannerSettings:
        """What the stack puts in the environment of the lifecycle planner."""
        return PlannerSettings.model_validate(
            {
                "USER_POOL_ID": self.user_pool_id,
                "EVENT_BUS_NAME": self.event_bus_name,
                "DEAD_LETTER_QUEUE_URL": self.planner_queue.dead_letter_url,
                "MAX_RECEIVE_COUNT": MAX_RECEIVE_COUNT,
                "OUTCOME_EVENT_SOURCE": OUTCOME_SOURCE,
                "LIFECYCLE_TABLE_NAME": self.lifecycle_table_name,
                "DELETE_QUEUE_ARN": self.queues["AdminDeleteUser"].arn,
                "DELETE_DEAD_LETTER_QUEUE_ARN": self.queues["AdminDeleteUser"].dead_letter_arn,
                "SCHEDULER_ROLE_ARN": SCHEDULER_ROLE_ARN,
                "LEAVER_THRESHOLD": self.leaver_threshold if leaver_threshold is None else leaver_threshold,
                "LEAVER_WINDOW_MINUTES": LEAVER_WINDOW_MINUTES,
            }
        )


def provision(
    endpoint_url: str,
    region: str,
    *,
    visibility_timeout_seconds: int = 30,
    prefix: str = PREFIX,
    leaver_threshold: int = LEAVER_THRESHOLD,
) -> LocalDeployment:
    """`prefix` names every resource: a second deployment on the same server needs its own."""
    session = boto3.session.Session(region_name=region)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    events = session.client("events", endpoint_url=endpoint_url)
    names = ResourceNames(prefix)
    bus_name = names.bus
    events.create_event_bus(Name=bus_name)

    queues: dict[str, QueuePair] = {}
    for spec in ACTIONS:
        queues[spec.name] = pair = _queue_with_dead_letter(
            sqs, names.queue(spec.name), names.dead_letter_queue(spec.name), visibility_timeout_seconds
        )
        _route(
            events,
            bus_name,
            f"{prefix}-{spec.name}",
            action_command_pattern(spec.name, command_sources=COMMAND_SOURCES),
            pair,
        )

    planner = _queue_with_dead_letter(
        sqs, names.queue(PLANNER.name), names.dead_letter_queue(PLANNER.name), visibility_timeout_seconds
    )
    patterns = planner_input_patterns(
        hr_sources=HR_SOURCES, outcome_source=OUTCOME_SOURCE, operator_source=OPERATOR_SOURCE
    )
    for name, pattern in patterns.items():
        _route(events, bus_name, f"{prefix}-{PLANNER.name}-{name}", pattern, planner)

    outcomes_url = sqs.create_queue(QueueName=f"{prefix}-outcomes")["QueueUrl"]
    outcomes = QueuePair(outcomes_url, _arn(sqs, outcomes_url), "", "")
    _route(events, bus_name, f"{prefix}-outcomes", {"source": [OUTCOME_SOURCE]}, outcomes)

    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    idempotency_table = _table(dynamodb, f"{prefix}-idempotency", key="id")
    lifecycle_table = _table(dynamodb, f"{prefix}-lifecycle", key="pk")

    pool_id, app_client_id = _sandbox_pool(session.client("cognito-idp", endpoint_url=endpoint_url), prefix)
    return LocalDeployment(
        endpoint_url=endpoint_url,
        region=region,
        user_pool_id=pool_id,
        app_client_id=app_client_id,
        event_bus_name=bus_name,
        idempotency_table_name=idempotency_table,
        lifecycle_table_name=lifecycle_table,
        outcomes_queue_url=outcomes_url,
        planner_queue=planner,
        queues=queues,
        leaver_threshold=leaver_threshold,
    )


def _table(dynamodb: DynamoDBClient, name: str, *, key: str) -> str:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )
    return name


def _arn(sqs: SQSClient, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _queue_with_dead_letter(
    sqs: SQSClient, name: str, dead_letter_name: str, visibility_timeout_seconds: int
) -> QueuePair:
    dead_letter_url = sqs.create_queue(
        QueueName=dead_letter_name, Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)}
    )["QueueUrl"]
    dead_letter_arn = _arn(sqs, dead_letter_url)
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
            ),
        },
    )["QueueUrl"]
    return QueuePair(url, _arn(sqs, url), dead_letter_url, dead_letter_arn)


def _route(
    events: EventBridgeClient, bus_name: str, rule: str, pattern: dict[str, Any], queue: QueuePair
) -> None:
    events.put_rule(Name=rule, EventBusName=bus_name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": queue.arn}])


def _sandbox_pool(cognito: CognitoIdentityProviderClient, prefix: str) -> tuple[str, str]:
    pool_id: str = cognito.create_user_pool(
        PoolName=f"{prefix}-sandbox",
        DeviceConfiguration={
            "ChallengeRequiredOnNewDevice": False,
            "DeviceOnlyRememberedOnUserPrompt": False,
        },
        Schema=[
            {
                "Name": name,
                "AttributeDataType": "String",
                "Mutable": True,
                "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "256"},
            }
            for name in SANDBOX_CUSTOM_ATTRIBUTES
        ],
        AutoVerifiedAttributes=["email"],
    )["UserPool"]["Id"]
    for group in SANDBOX_GROUPS:
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    app_client_id: str = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=f"{prefix}-admin",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool_id, app_client_id
