"""A function fed by its own SQS queue: its queue and DLQ, role, function and the event source between.

Every queue consumer of the product is one: each catalog action's worker (infra/worker.py) and the lifecycle
planner (infra/planner.py). `QueueFedFunction` builds what they share, and each adds its own permissions
and environment. `consumer_function` is the one factory of their Lambda functions.

The role is written out statement by statement, exact actions on exact ARNs, instead of CDK's grant helpers
(which add actions such as sqs:GetQueueUrl or kms:ReEncrypt* that a consumer never calls), and
it is handed to the function immutable so that nothing adds to it later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cognito_workers.catalog import ResourceNames
from infra.config import WorkerTuning
from infra.encryption import DataKey
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
DEAD_LETTER_RETENTION = cdk.Duration.days(14)
# AWS's guidance for SQS event sources: visibility timeout at least six times the function timeout (plus
# the batching window), so that a record is not handed out again while an invocation may still hold it.
VISIBILITY_TIMEOUT_FACTOR = 6
# The Powertools service name; the functions are told apart by the metrics' "action" dimension (the
# action's name, or the planner's).
SERVICE_NAME = "cognito-workers"
METRICS_NAMESPACE = "CognitoLifecycle"


@dataclass(frozen=True, kw_only=True)
class ConsumerShared:
    """What every queue consumer uses: built once by the stack."""

    names: ResourceNames
    code: lambda_.Code
    powertools_layer: lambda_.ILayerVersion
    bus_name: str
    bus_arn: str
    data_key: DataKey
    user_pool_id: str
    max_receive_count: int
    outcome_event_source: str
    deadline_margin_ms: int
    log_retention: logs.RetentionDays
    log_level: str
    trace_aws_calls: bool

    def publish_statement(self, sid: str, *sources: str) -> iam.PolicyStatement:
        """events:PutEvents on the stack's bus, only for events of these sources (a function may publish
        only its own: the planner's inputs are told apart by their source)."""
        allowed = sources[0] if len(sources) == 1 else list(sources)
        return iam.PolicyStatement(
            sid=sid,
            actions=["events:PutEvents"],
            resources=[self.bus_arn],
            conditions={"StringEquals": {"events:source": allowed}},
        )


class QueueFedFunction(Construct):
    """`name` (an action's, or the planner's) names the queue `<prefix>-<name>`, its DLQ `<prefix>-<name>-dlq`
    and the function `<prefix>-<name>` (catalog.ResourceNames). `statements` are what the function needs
    beyond consuming its queue, dead-lettering, the key (through SQS and DynamoDB), its logs and X-Ray;
    `environment` is what it reads beyond ConsumerSettings."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        handler: str,
        description: str,
        role_description: str,
        statements: Sequence[iam.PolicyStatement],
        environment: Mapping[str, str],
        tuning: WorkerTuning,
        maximum_concurrency: int,
        shared: ConsumerShared,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = name
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=shared.names.dead_letter_queue(name),
            retention_period=DEAD_LETTER_RETENTION,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=shared.data_key.key,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=shared.names.queue(name),
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
            description=role_description,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            inline_policies={
                "Permissions": iam.PolicyDocument(
                    statements=[*statements, *self._consumer_statements(shared)]
                )
            },
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permission: AWS"
            " requires Resource * for them (Service Authorization Reference, AWS X-Ray). The role's other"
            " statements name their resources; any other wildcard is acknowledged on its own.",
        )
        self.function = consumer_function(
            self,
            "Function",
            function_name=shared.names.queue(name),  # the function is named like its queue
            handler=handler,
            description=description,
            role=self.role,
            log_group=self.log_group,
            tuning=tuning,
            environment={
                "USER_POOL_ID": shared.user_pool_id,
                "EVENT_BUS_NAME": shared.bus_name,
                "QUEUE_URL": self.queue.queue_url,
                "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
                "MAX_RECEIVE_COUNT": str(shared.max_receive_count),
                "OUTCOME_EVENT_SOURCE": shared.outcome_event_source,
                "DEADLINE_MARGIN_MS": str(shared.deadline_margin_ms),
                **environment,
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": shared.log_level,
                # X-Ray subsegments per invocation and AWS call (cognito_workers.observability); the
                # function's own trace segment comes from active tracing either way.
                "TRACE_AWS_CALLS": "true" if shared.trace_aws_calls else "false",
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

    def _consumer_statements(self, shared: ConsumerShared) -> list[iam.PolicyStatement]:
        """What every consumer needs: its queue, its DLQ, the key behind both, its logs, X-Ray."""
        return [
            iam.PolicyStatement(
                sid="ConsumeItsQueue",
                actions=[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility",  # a contended record comes back sooner
                ],
                resources=[self.queue.queue_arn],
            ),
            iam.PolicyStatement(
                sid="DeadLetterToItsDlq",
                actions=["sqs:SendMessage"],
                resources=[self.dead_letter_queue.queue_arn],
            ),
            shared.data_key.use_statement(via=("sqs", "dynamodb")),
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


def consumer_function(
    scope: Construct,
    construct_id: str,
    *,
    function_name: str,
    handler: str,
    description: str,
    role: iam.IRole,
    log_group: logs.ILogGroup,
    tuning: WorkerTuning,
    environment: dict[str, str],
    shared: ConsumerShared,
) -> lambda_.Function:
    """A queue consumer's Lambda function: the functions/ asset, the given handler, Powertools from its
    public layer, arm64, active tracing, logs in its own log group."""
    function = lambda_.Function(
        scope,
        construct_id,
        function_name=function_name,
        description=description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        code=shared.code,
        handler=handler,
        layers=[shared.powertools_layer],
        role=role.without_policy_updates() if isinstance(role, iam.Role) else role,
        timeout=cdk.Duration.seconds(tuning.function_timeout_seconds),
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
