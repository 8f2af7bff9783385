"""One catalog action's worker: its queue and DLQ, its role, its function and the event source between.

`worker_function` is the one factory for an action's Lambda function. The role is written out statement by
statement, exact actions on exact ARNs, instead of CDK's grant helpers (which add actions such as
sqs:ChangeMessageVisibility or kms:ReEncrypt* that a worker never calls), and it is handed to the function
immutable so that nothing adds to it later.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cognito_workers.catalog import ActionSpec
from infra.config import WorkerTuning
from infra.encryption import DataKey
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
DEAD_LETTER_RETENTION = cdk.Duration.days(14)
# AWS's guidance for SQS event sources: visibility timeout at least six times the function timeout (plus
# the batching window), so that a record is not handed out again while an invocation may still hold it.
VISIBILITY_TIMEOUT_FACTOR = 6
# The Powertools service name; the actions are told apart by the metrics' "action" dimension.
SERVICE_NAME = "cognito-workers"
METRICS_NAMESPACE = "CognitoLifecycle"


@dataclass(frozen=True, kw_only=True)
class WorkerShared:
    """What every worker uses: built once by the stack."""

    resource_prefix: str
    code: lambda_.Code
    powertools_layer: lambda_.ILayerVersion
    bus_name: str
    bus_arn: str
    table_name: str
    table_arn: str
    data_key: DataKey
    user_pool_id: str
    user_pool_arn: str
    max_receive_count: int
    outcome_event_source: str
    idempotency_expiry_seconds: int
    deadline_margin_ms: int
    log_retention: logs.RetentionDays
    log_level: str


class ActionWorker(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: ActionSpec,
        tuning: WorkerTuning,
        maximum_concurrency: int,
        shared: WorkerShared,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        name = f"{shared.resource_prefix}-{spec.name}"
        timeout = cdk.Duration.seconds(tuning.function_timeout_seconds)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=f"{name}-dlq",
            retention_period=DEAD_LETTER_RETENTION,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=shared.data_key.key,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=name,
            visibility_timeout=cdk.Duration.seconds(
                VISIBILITY_TIMEOUT_FACTOR * tuning.function_timeout_seconds
                + tuning.max_batching_window_seconds
            ),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=shared.data_key.key,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=shared.max_receive_count
            ),
        )
        self.log_group = logs.LogGroup(self, "Logs", retention=shared.log_retention)
        self.role = iam.Role(
            self,
            "Role",
            description=f"{spec.name} worker: cognito-idp:{spec.name} on the managed pool, its own queues",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            inline_policies={"Worker": self._policy(shared)},
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permission: AWS"
            " requires Resource * for them (Service Authorization Reference, AWS X-Ray). No other statement"
            " of this role has a wildcard.",
        )
        self.function = worker_function(
            self,
            "Function",
            spec=spec,
            function_name=name,
            role=self.role,
            log_group=self.log_group,
            timeout=timeout,
            tuning=tuning,
            environment={
                "USER_POOL_ID": shared.user_pool_id,
                "IDEMPOTENCY_TABLE_NAME": shared.table_name,
                "EVENT_BUS_NAME": shared.bus_name,
                "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
                "MAX_RECEIVE_COUNT": str(shared.max_receive_count),
                "OUTCOME_EVENT_SOURCE": shared.outcome_event_source,
                "IDEMPOTENCY_EXPIRY_SECONDS": str(shared.idempotency_expiry_seconds),
                "DEADLINE_MARGIN_MS": str(shared.deadline_margin_ms),
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": shared.log_level,
            },
            shared=shared,
        )
        self.event_source = lambda_.EventSourceMapping(
            self,
            "QueueSource",
            target=self.function,
            event_source_arn=self.queue.queue_arn,
            batch_size=tuning.batch_size,
            max_batching_window=cdk.Duration.seconds(tuning.max_batching_window_seconds),
            max_concurrency=maximum_concurrency,
            report_batch_item_failures=True,
        )

    def _policy(self, shared: WorkerShared) -> iam.PolicyDocument:
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="CallItsCognitoAction",
                    actions=[f"cognito-idp:{self.spec.name}"],
                    resources=[shared.user_pool_arn],
                ),
                iam.PolicyStatement(
                    sid="ConsumeItsQueue",
                    actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    resources=[self.queue.queue_arn],
                ),
                iam.PolicyStatement(
                    sid="DeadLetterToItsDlq",
                    actions=["sqs:SendMessage"],
                    resources=[self.dead_letter_queue.queue_arn],
                ),
                iam.PolicyStatement(
                    sid="KeepIdempotencyRecords",
                    actions=[
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                    ],
                    resources=[shared.table_arn],
                ),
                iam.PolicyStatement(
                    sid="PublishOutcomeEvents",
                    actions=["events:PutEvents"],
                    resources=[shared.bus_arn],
                    conditions={"StringEquals": {"events:source": shared.outcome_event_source}},
                ),
                shared.data_key.use_statement(),
                iam.PolicyStatement(
                    sid="WriteItsLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                ),
                iam.PolicyStatement(
                    sid="SendTraces",
                    actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    resources=["*"],
                ),
            ]
        )


def worker_function(
    scope: Construct,
    construct_id: str,
    *,
    spec: ActionSpec,
    function_name: str,
    role: iam.IRole,
    log_group: logs.ILogGroup,
    timeout: cdk.Duration,
    tuning: WorkerTuning,
    environment: dict[str, str],
    shared: WorkerShared,
) -> lambda_.Function:
    """The Lambda function of one catalog action: the functions/ asset, the action's handler module,
    Powertools from its public layer, arm64, active tracing, logs in its own log group."""
    function = lambda_.Function(
        scope,
        construct_id,
        function_name=function_name,
        description=f"Cognito {spec.name} worker (SQS-triggered, idempotent)",
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        code=shared.code,
        handler=spec.handler,
        layers=[shared.powertools_layer],
        role=role.without_policy_updates() if isinstance(role, iam.Role) else role,
        timeout=timeout,
        memory_size=tuning.function_memory_mb,
        environment=environment,
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
    )
    acknowledge(
        function,
        "AwsSolutions-L1",
        f"{RUNTIME.name} on purpose: the Powertools v3 public layer this stack pins is published for"
        " python3.12 and python3.13 (docs/deploy.md), and the code is kept valid from 3.11 up.",
    )
    return function
