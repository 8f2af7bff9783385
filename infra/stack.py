"""The stack: the shared resources, one worker per catalog action (each routed, alarmed and paced by its
quota category's shared budget), the lifecycle planner with its state table, its deletion schedules and
its hold alarm, and the reconciler with its snapshot bucket."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cognito_workers.catalog import ACTIONS, PLANNER, RECONCILER, QuotaCategory, ResourceNames
from infra.alarms import Alarms
from infra.concurrency import category_budgets
from infra.config import LOG_RETENTION_DAYS, DeploymentConfig
from infra.consumer import ARCHITECTURE, RUNTIME, ConsumerShared
from infra.dashboard import OperatorDashboard
from infra.deletions import ScheduledDeletions
from infra.encryption import DataKey
from infra.event_bus import CommandBus
from infra.planner import LeaverThreshold, LifecyclePlanner
from infra.reconciler import ReconcilerInputs, SnapshotReconciler
from infra.routing import action_command_pattern, lock_out_lane_patterns, planner_input_patterns
from infra.tables import IdempotencyTable, LifecycleTable, QuotaBudgetTable
from infra.user_pool import ManagedUserPool
from infra.worker import ActionWorker, WorkerShared

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


def schedule_group_name(names: ResourceNames) -> str:
    """The EventBridge Scheduler group of the leavers' deletions."""
    return f"{names.prefix}-deletions"


def _camel(name: str) -> str:
    """hr-events -> HrEvents: a template-friendly name for an input of the planner."""
    return "".join(part.capitalize() for part in name.split("-"))


def log_retention(days: int) -> logs.RetentionDays:
    """CDK's enum member for a number of days (the finite members, in increasing order)."""
    finite = [member for member in logs.RetentionDays if member is not logs.RetentionDays.INFINITE]
    return dict(zip(sorted(LOG_RETENTION_DAYS), finite, strict=True))[days]


class CognitoWorkersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Cognito user lifecycle: a Lambda worker per admin action behind SQS and EventBridge,"
            " and the lifecycle planner",
            analytics_reporting=False,
        )
        prefix = config.resource_prefix
        names = ResourceNames(prefix)
        data_key = DataKey(
            self, "DataKey", description=f"{prefix}: queues, tables, alarm topic, command archive"
        )
        commands = CommandBus(
            self,
            "Commands",
            bus_name=names.bus,
            archived_sources=[*config.command_sources, *config.hr_event_sources, RECONCILER.event_source],
            archive_retention_days=config.archive_retention_days,
            archive_key=data_key,
            target_max_event_age_seconds=config.rule_target_max_event_age_seconds,
            target_retry_attempts=config.rule_target_retry_attempts,
        )
        table = IdempotencyTable(self, "Idempotency", key=data_key.key)
        budget_table = QuotaBudgetTable(self, "QuotaBudget", key=data_key.key)
        pool = ManagedUserPool(
            self,
            "UserPool",
            user_pool_id=config.user_pool_id,
            pool_name=f"{prefix}-sandbox",
            sandbox_groups=config.sandbox_groups,
            sandbox_custom_attributes=config.sandbox_custom_attributes,
        )
        alarms = Alarms(self, "Alarms", alarm_name_prefix=prefix, key=data_key.key, email=config.alarm_email)
        consumer = ConsumerShared(
            names=names,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=ASSET_EXCLUDES),
            powertools_layer=lambda_.LayerVersion.from_layer_version_arn(
                self,
                "PowertoolsLayer",
                powertools_layer_arn(region=cdk.Aws.REGION, version=config.powertools_layer_version),
            ),
            bus_name=commands.bus.ref,
            bus_arn=commands.bus_arn,
            data_key=data_key,
            user_pool_id=pool.user_pool_id,
            max_receive_count=config.max_receive_count,
            outcome_event_source=config.outcome_event_source,
            deadline_margin_ms=config.deadline_margin_ms,
            log_retention=log_retention(config.log_retention_days),
            log_level=config.log_level,
            trace_aws_calls=config.trace_aws_calls,
        )
        shared = WorkerShared(
            consumer=consumer,
            user_pool_arn=pool.user_pool_arn,
            table_name=table.table.table_name,
            table_arn=table.table.table_arn,
            idempotency_expiry_seconds=config.idempotency_expiry_seconds,
            budget_table_name=budget_table.table.table_name,
            budget_table_arn=budget_table.table.table_arn,
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
                requests_per_second=config.requests_per_second(spec.quota),
                shared=shared,
            )
            commands.route(
                name=spec.name,
                description=f"{spec.name} commands to their queue",
                pattern=action_command_pattern(spec.name, command_sources=config.command_sources),
                queue=worker.queue,
                dead_letter_queue=worker.dead_letter_queue,
            )
            alarms.watch(worker)
            self.workers[spec.name] = worker

        lifecycle_table = LifecycleTable(self, "LifecycleState", key=data_key.key)
        deletions = ScheduledDeletions(
            self,
            "ScheduledDeletions",
            group_name=schedule_group_name(names),
            delete_queue=self.workers["AdminDeleteUser"].queue,
            delete_dead_letter_queue=self.workers["AdminDeleteUser"].dead_letter_queue,
            data_key=data_key,
        )

        def planner(construct_id: str, *, lane: bool, maximum_concurrency: int) -> LifecyclePlanner:
            return LifecyclePlanner(
                self,
                construct_id,
                lane=lane,
                tuning=config.tuning(PLANNER.lock_out_lane_name if lane else PLANNER.name),
                maximum_concurrency=maximum_concurrency,
                shared=consumer,
                table=lifecycle_table,
                delete_queue=self.workers["AdminDeleteUser"].queue,
                delete_dead_letter_queue=self.workers["AdminDeleteUser"].dead_letter_queue,
                deletions=deletions,
                leavers=LeaverThreshold(
                    threshold=config.leaver_threshold, window_minutes=config.leaver_window_minutes
                ),
            )

        # The planner saves a person's state with optimistic concurrency, so instances may overlap.
        self.planner = planner("Planner", lane=False, maximum_concurrency=config.planner_max_concurrency)
        inputs = {
            input_name: (pattern, self.planner)
            for input_name, pattern in planner_input_patterns(
                hr_sources=config.hr_event_sources,
                outcome_source=config.outcome_event_source,
                operator_source=config.operator_event_source,
                lock_out_lane=config.lock_out_lane,
            ).items()
        }
        self.lock_out_lane: LifecyclePlanner | None = None
        if config.lock_out_lane:
            self.lock_out_lane = planner(
                "LockOutLane",
                lane=True,
                maximum_concurrency=budgets[PLANNER.lock_out_category].lock_out_lane_concurrency(
                    len(PLANNER.lock_out_actions)
                ),
            )
            lane_inputs = lock_out_lane_patterns(
                hr_sources=config.hr_event_sources, outcome_source=config.outcome_event_source
            )
            inputs |= {name: (pattern, self.lock_out_lane) for name, pattern in lane_inputs.items()}
        for input_name, (pattern, consumer_of_input) in inputs.items():
            commands.route(
                name=f"{PLANNER.name}{_camel(input_name)}",
                description=f"{consumer_of_input.name} input: {input_name}",
                pattern=pattern,
                queue=consumer_of_input.queue,
                dead_letter_queue=consumer_of_input.dead_letter_queue,
            )
        planners = [self.planner, *([self.lock_out_lane] if self.lock_out_lane else [])]
        self.reconciler = SnapshotReconciler(
            self,
            "Reconciliation",
            knobs=config.reconciler,
            policy=config.reconciliation,
            inputs=ReconcilerInputs(
                user_pool_arn=pool.user_pool_arn,
                user_list_requests_per_second=config.requests_per_second(QuotaCategory.USER_LIST),
                target_max_event_age_seconds=config.rule_target_max_event_age_seconds,
                target_retry_attempts=config.rule_target_retry_attempts,
            ),
            shared=consumer,
        )
        for each in [*planners, self.reconciler.function]:
            alarms.watch(each)
        hold_alarm = alarms.watch_hold(self.planner)
        held_run_alarm = alarms.watch_held_reconciliation()
        alarms.watch_lock_out(slo_seconds=config.lock_out_slo_seconds)
        dashboard = OperatorDashboard(
            self,
            "Dashboard",
            dashboard_name=f"{prefix}-operations",
            workers=list(self.workers.values()),
            planners=planners,
            reconciler=self.reconciler.function,
            lock_out_slo_seconds=config.lock_out_slo_seconds,
        )

        commands.allow_publishers(
            publishers=config.event_publishers,
            function_role_arns=[
                *(worker.role.role_arn for worker in self.workers.values()),
                *(each.role.role_arn for each in planners),
                self.reconciler.function.role.role_arn,
            ],
        )

        cdk.CfnOutput(self, "EventBusName", value=commands.bus.ref)
        cdk.CfnOutput(self, "EventBusArn", value=commands.bus.attr_arn)
        cdk.CfnOutput(self, "UserPoolId", value=pool.user_pool_id)
        cdk.CfnOutput(self, "IdempotencyTableName", value=table.table.table_name)
        cdk.CfnOutput(self, "QuotaBudgetTableName", value=budget_table.table.table_name)
        cdk.CfnOutput(self, "LifecycleTableName", value=lifecycle_table.table.table_name)
        cdk.CfnOutput(self, "DeletionScheduleGroupName", value=deletions.group_name)
        cdk.CfnOutput(self, "HoldAlarmName", value=hold_alarm.alarm_name)
        cdk.CfnOutput(self, "SnapshotBucketName", value=self.reconciler.bucket.bucket_name)
        cdk.CfnOutput(self, "DataKeyArn", value=data_key.key.key_arn)
        cdk.CfnOutput(
            self,
            "SnapshotLocation",
            value=f"s3://{self.reconciler.bucket.bucket_name}/{config.reconciler.snapshot_prefix}"
            " (.csv or .jsonl: each new object is reconciled)",
        )
        cdk.CfnOutput(self, "ReconciliationHeldAlarmName", value=held_run_alarm.alarm_name)
        cdk.CfnOutput(self, "AlarmTopicArn", value=alarms.topic.topic_arn)
        cdk.CfnOutput(self, "DashboardName", value=dashboard.dashboard.dashboard_name)
        cdk.CfnOutput(
            self,
            "QueueNamePattern",
            value=f"{names.queue('<Function>')} (dead letters: {names.dead_letter_queue('<Function>')});"
            f" functions: the actions, {PLANNER.name}, {PLANNER.lock_out_lane_name} and {RECONCILER.name}",
        )
        if pool.app_client is not None:
            cdk.CfnOutput(self, "SandboxAdminClientId", value=pool.app_client.user_pool_client_id)
