"""Provision, on the local endpoint, the resources the workers need: read from the action catalog.

Per action a queue with its DLQ and an EventBridge rule routing commands to it; one bus, one idempotency
table, one user pool with an app client, and a queue collecting outcome events for local inspection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from cognito_workers.catalog import ACTIONS
from cognito_workers.settings import WorkerSettings

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

PREFIX = "cognito-lifecycle"
COMMAND_SOURCES = ("hr.system", "cognito.lifecycle.planner")
OUTCOME_SOURCE = "cognito.workers"
MAX_RECEIVE_COUNT = 5
SANDBOX_GROUPS = ("staff", "engineering", "managers", "contractors")
# Mutable string attributes that exist from the start; AddCustomAttributes adds more.
SANDBOX_CUSTOM_ATTRIBUTES = ("department",)


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
    outcomes_queue_url: str
    queues: dict[str, QueuePair] = field(default_factory=dict)

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


def provision(endpoint_url: str, region: str, *, visibility_timeout_seconds: int = 30) -> LocalDeployment:
    session = boto3.session.Session(region_name=region)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    events = session.client("events", endpoint_url=endpoint_url)
    bus_name = f"{PREFIX}-bus"
    events.create_event_bus(Name=bus_name)

    queues: dict[str, QueuePair] = {}
    for spec in ACTIONS:
        queues[spec.name] = pair = _queue_with_dead_letter(
            sqs, f"{PREFIX}-{spec.name}", visibility_timeout_seconds
        )
        _route(
            events,
            bus_name,
            f"{PREFIX}-{spec.name}",
            {"detail-type": [spec.name], "source": list(COMMAND_SOURCES)},
            pair,
        )

    outcomes_url = sqs.create_queue(QueueName=f"{PREFIX}-outcomes")["QueueUrl"]
    outcomes = QueuePair(outcomes_url, _arn(sqs, outcomes_url), "", "")
    _route(events, bus_name, f"{PREFIX}-outcomes", {"source": [OUTCOME_SOURCE]}, outcomes)

    table_name = f"{PREFIX}-idempotency"
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )

    pool_id, app_client_id = _sandbox_pool(session.client("cognito-idp", endpoint_url=endpoint_url))
    return LocalDeployment(
        endpoint_url=endpoint_url,
        region=region,
        user_pool_id=pool_id,
        app_client_id=app_client_id,
        event_bus_name=bus_name,
        idempotency_table_name=table_name,
        outcomes_queue_url=outcomes_url,
        queues=queues,
    )


def _arn(sqs: SQSClient, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _queue_with_dead_letter(sqs: SQSClient, name: str, visibility_timeout_seconds: int) -> QueuePair:
    dead_letter_url = sqs.create_queue(
        QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)}
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


def _sandbox_pool(cognito: CognitoIdentityProviderClient) -> tuple[str, str]:
    pool_id: str = cognito.create_user_pool(
        PoolName=f"{PREFIX}-sandbox",
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
        ClientName=f"{PREFIX}-admin",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool_id, app_client_id
