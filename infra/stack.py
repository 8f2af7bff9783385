"""The stack: the shared resources, then one worker per catalog action, each routed, alarmed and paced."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cognito_workers.catalog import ACTIONS
from infra.alarms import WorkerAlarms
from infra.concurrency import category_budgets
from infra.config import LOG_RETENTION_DAYS, DeploymentConfig
from infra.encryption import DataKey
from infra.event_bus import CommandBus
from infra.idempotency import IdempotencyTable
from infra.user_pool import ManagedUserPool
from infra.worker import ARCHITECTURE, RUNTIME, ActionWorker, WorkerShared

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
# The Lambda asset is the functions/ tree as it is; Powertools and pydantic come from the layer, boto3
# from the runtime. Caches and build leftovers stay out.
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/.pytest_cache", "**/*.egg-info"]
POWERTOOLS_ACCOUNT = "017000801446"


def powertools_layer_arn(*, region: str, version: int) -> str:
    """The public Powertools for AWS Lambda (Python) v3 layer for this runtime and architecture."""
    runtime = RUNTIME.name.replace(".", "")  # python3.13 -> python313
    arch = ARCHITECTURE.name  # arm64 or x86_64, as the layer names spell them
    return (
        f"arn:{cdk.Aws.PARTITION}:lambda:{region}:{POWERTOOLS_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{runtime}-{arch}:{version}"
    )


def log_retention(days: int) -> logs.RetentionDays:
    """CDK's enum member for a number of days (the finite members, in increasing order)."""
    finite = [member for member in logs.RetentionDays if member is not logs.RetentionDays.INFINITE]
    return dict(zip(sorted(LOG_RETENTION_DAYS), finite, strict=True))[days]


class CognitoWorkersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Cognito user lifecycle: a Lambda worker per admin action behind SQS and EventBridge",
            analytics_reporting=False,
        )
        prefix = config.resource_prefix
        data_key = DataKey(self, "DataKey", description=f"{prefix}: queues, idempotency records, alarm topic")
        commands = CommandBus(
            self,
            "Commands",
            bus_name=f"{prefix}-bus",
            command_sources=config.command_sources,
            archive_retention_days=config.archive_retention_days,
            target_max_event_age_seconds=config.rule_target_max_event_age_seconds,
            target_retry_attempts=config.rule_target_retry_attempts,
        )
        table = IdempotencyTable(self, "Idempotency", key=data_key.key)
        pool = ManagedUserPool(
            self,
            "UserPool",
            user_pool_id=config.user_pool_id,
            pool_name=f"{prefix}-sandbox",
            sandbox_groups=config.sandbox_groups,
            sandbox_custom_attributes=config.sandbox_custom_attributes,
        )
        alarms = WorkerAlarms(
            self, "Alarms", alarm_name_prefix=prefix, key=data_key.key, email=config.alarm_email
        )
        shared = WorkerShared(
            resource_prefix=prefix,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=ASSET_EXCLUDES),
            powertools_layer=lambda_.LayerVersion.from_layer_version_arn(
                self,
                "PowertoolsLayer",
                powertools_layer_arn(region=cdk.Aws.REGION, version=config.powertools_layer_version),
            ),
            bus_name=commands.bus.ref,
            bus_arn=commands.bus_arn,
            table_name=table.table.table_name,
            table_arn=table.table.table_arn,
            data_key=data_key,
            user_pool_id=pool.user_pool_id,
            user_pool_arn=pool.user_pool_arn,
            max_receive_count=config.max_receive_count,
            outcome_event_source=config.outcome_event_source,
            idempotency_expiry_seconds=config.idempotency_expiry_seconds,
            deadline_margin_ms=config.deadline_margin_ms,
            log_retention=log_retention(config.log_retention_days),
            log_level=config.log_level,
        )
        budgets = category_budgets(
            assumed_record_millis=config.assumed_record_millis, quota_overrides=config.quota_overrides
        )
        workers_scope = Construct(self, "Workers")
        self.workers: dict[str, ActionWorker] = {}
        for spec in ACTIONS:
            worker = ActionWorker(
                workers_scope,
                spec.name,
                spec=spec,
                tuning=config.tuning(spec.name),
                maximum_concurrency=budgets[spec.quota].maximum_concurrency,
                shared=shared,
            )
            commands.route(action=spec.name, queue=worker.queue, dead_letter_queue=worker.dead_letter_queue)
            alarms.watch(worker)
            self.workers[spec.name] = worker
        commands.allow_publishers(
            publishers=config.event_publishers,
            worker_role_arns=[worker.role.role_arn for worker in self.workers.values()],
        )

        cdk.CfnOutput(self, "EventBusName", value=commands.bus.ref)
        cdk.CfnOutput(self, "EventBusArn", value=commands.bus.attr_arn)
        cdk.CfnOutput(self, "UserPoolId", value=pool.user_pool_id)
        cdk.CfnOutput(self, "IdempotencyTableName", value=table.table.table_name)
        cdk.CfnOutput(self, "AlarmTopicArn", value=alarms.topic.topic_arn)
        cdk.CfnOutput(
            self, "QueueNamePattern", value=f"{prefix}-<Action> (dead letters: {prefix}-<Action>-dlq)"
        )
        if pool.app_client is not None:
            cdk.CfnOutput(self, "SandboxAdminClientId", value=pool.app_client.user_pool_client_id)
