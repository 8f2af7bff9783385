"""The deployment's knobs, read from CDK context and validated before any resource is built.

cdk.json holds every knob with its default (docs/deploy.md describes each one); `cdk synth -c name=value`
overrides one. The CDK CLI passes `-c` values as strings, so lists, maps and numbers are also accepted as
JSON text (`-c quotaOverrides='{"UserCreation": 100}'`). There are no defaults in code: a knob missing from
the context fails synth with its name, so cdk.json stays the one place where defaults live.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cognito_workers.catalog import ACTIONS_BY_NAME, PLANNER, QuotaCategory
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.records import REPORTS
from infra.concurrency import MAX_MAXIMUM_CONCURRENCY, MIN_MAXIMUM_CONCURRENCY

# Cognito quotas that AWS does not raise (Cognito developer guide, "Quotas"): context may lower them (to
# leave room for other applications in the account), never raise them.
FIXED_QUOTAS = frozenset(
    {"UserAccountRecovery", "UserUpdate", "UserResourceUpdate", "UserPoolResourceUpdate"}
)
_QUOTA_NAMES = frozenset(category.quota_name for category in QuotaCategory)
# A category's budget books each second's calls on one DynamoDB item (functions/cognito_workers/budget.py),
# and one item takes at most 1000 writes per second.
MAX_BUDGET_REQUESTS_PER_SECOND = 1000

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_PRINCIPAL_ARN = re.compile(r"^arn:aws[\w-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+$")
_EVENT_SOURCE = re.compile(r"^[\w.-]{1,256}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ContextSource(Protocol):
    """What the knobs are read from: a construct's node (app.node), or a stand-in in tests."""

    def try_get_context(self, key: str) -> Any: ...


def _json_text(value: Any) -> Any:
    """`-c name=value` arrives as a string: read JSON text as the structure it spells."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        return json.loads(value)
    return value


def _event_source(value: str) -> str:
    if not _EVENT_SOURCE.match(value):
        raise ValueError(f"{value!r} is not an EventBridge source")
    return value


EventSource = Annotated[str, BeforeValidator(lambda v: _event_source(str(v)))]


def _switch(value: Any) -> bool:
    """true or false: in cdk.json a JSON boolean, from `-c name=value` its text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise ValueError(f"must be true or false, not {value!r}")


Switch = Annotated[bool, BeforeValidator(_switch)]
PositiveInt = Annotated[int, Field(ge=1)]


class WorkerTuning(BaseModel):
    """The knobs of each action's function and event source; `actionOverrides` may set them per action."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    function_timeout_seconds: Annotated[int, Field(ge=3, le=900)] = Field(alias="functionTimeoutSeconds")
    function_memory_mb: Annotated[int, Field(ge=128, le=10240)] = Field(alias="functionMemoryMb")
    batch_size: Annotated[int, Field(ge=1, le=10)] = Field(alias="batchSize")
    max_batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = Field(alias="maxBatchingWindowSeconds")


class ReconcilerKnobs(BaseModel):
    """The snapshot bucket and the reconciler function (cdk.json's `reconciler`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    # Objects under it are snapshots; the reconciler writes its reports under `reports/`, beside it.
    snapshot_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9._=-]+/$")] = Field(alias="snapshotPrefix")
    max_snapshot_megabytes: Annotated[int, Field(ge=1, le=10_240)] = Field(alias="maxSnapshotMegabytes")
    # false: every snapshot is a dry run (its report and ReconciliationCompleted, status DryRun).
    apply_snapshots: Switch = Field(alias="applySnapshots")
    # Snapshots and reports hold personal data: S3 expires them after this many days.
    retention_days: Annotated[int, Field(ge=1, le=3650)] = Field(alias="retentionDays")
    function_timeout_seconds: Annotated[int, Field(ge=60, le=900)] = Field(alias="functionTimeoutSeconds")
    function_memory_mb: Annotated[int, Field(ge=256, le=10240)] = Field(alias="functionMemoryMb")

    @field_validator("snapshot_prefix")
    @classmethod
    def _not_the_reports(cls, prefix: str) -> str:
        if prefix == f"{REPORTS}/":
            raise ValueError(f"{prefix!r} is where the reconciler writes its reports")
        return prefix


class DeploymentConfig(BaseModel):
    """Every knob of the stack. Field aliases are the context keys."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stack_name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$")] = Field(alias="stackName")
    # Names the bus, queues, functions and alarms; keep it short: "<prefix>-AdminRespondToAuthChallenge-dlq"
    # must stay within SQS's 80 characters and a function name within 64.
    resource_prefix: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,18}$")] = Field(alias="resourcePrefix")
    user_pool_id: Annotated[str, Field(pattern=r"^$|^[\w-]+_[0-9a-zA-Z]+$", max_length=55)] = Field(
        alias="userPoolId"
    )
    command_sources: Annotated[list[EventSource], Field(min_length=1), BeforeValidator(_json_text)] = Field(
        alias="commandSources"
    )
    event_publishers: Annotated[list[str], BeforeValidator(_json_text)] = Field(alias="eventPublishers")
    outcome_event_source: EventSource = Field(alias="outcomeEventSource")
    archive_retention_days: Annotated[int, Field(ge=0)] = Field(alias="archiveRetentionDays")
    rule_target_max_event_age_seconds: Annotated[int, Field(ge=60, le=86400)] = Field(
        alias="ruleTargetMaxEventAgeSeconds"
    )
    rule_target_retry_attempts: Annotated[int, Field(ge=0, le=185)] = Field(alias="ruleTargetRetryAttempts")
    max_receive_count: Annotated[int, Field(ge=1, le=1000)] = Field(alias="maxReceiveCount")
    function_timeout_seconds: Annotated[int, Field(ge=3, le=900)] = Field(alias="functionTimeoutSeconds")
    function_memory_mb: Annotated[int, Field(ge=128, le=10240)] = Field(alias="functionMemoryMb")
    batch_size: Annotated[int, Field(ge=1, le=10)] = Field(alias="batchSize")
    max_batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = Field(alias="maxBatchingWindowSeconds")
    action_overrides: Annotated[dict[str, dict[str, Any]], BeforeValidator(_json_text)] = Field(
        alias="actionOverrides"
    )
    assumed_record_millis: Annotated[int, Field(ge=1, le=900_000)] = Field(alias="assumedRecordMillis")
    # Each category's rate, for its shared budget and its actions' concurrency; checked in _consistent.
    quota_overrides: Annotated[dict[str, int], BeforeValidator(_json_text)] = Field(alias="quotaOverrides")
    idempotency_expiry_seconds: Annotated[int, Field(ge=60)] = Field(alias="idempotencyExpirySeconds")
    deadline_margin_ms: Annotated[int, Field(ge=0)] = Field(alias="deadlineMarginMs")
    log_retention_days: int = Field(alias="logRetentionDays")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(alias="logLevel")
    trace_aws_calls: Switch = Field(alias="traceAwsCalls")
    powertools_layer_version: PositiveInt = Field(alias="powertoolsLayerVersion")
    alarm_email: str = Field(alias="alarmEmail")
    sandbox_groups: Annotated[list[str], BeforeValidator(_json_text)] = Field(alias="sandboxGroups")
    sandbox_custom_attributes: Annotated[list[str], BeforeValidator(_json_text)] = Field(
        alias="sandboxCustomAttributes"
    )
    hr_event_sources: Annotated[list[EventSource], Field(min_length=1), BeforeValidator(_json_text)] = Field(
        alias="hrEventSources"
    )
    operator_event_source: EventSource = Field(alias="operatorEventSource")
    leaver_threshold: PositiveInt = Field(alias="leaverThreshold")
    leaver_window_minutes: PositiveInt = Field(alias="leaverWindowMinutes")
    # The planner saves a person's state with optimistic concurrency: overlapping instances are safe.
    planner_max_concurrency: Annotated[int, Field(ge=MIN_MAXIMUM_CONCURRENCY, le=MAX_MAXIMUM_CONCURRENCY)] = (
        Field(alias="plannerMaxConcurrency")
    )
    # Leavers and their lock-out outcomes on a queue and planner function of their own (README: lock-out).
    lock_out_lane: bool = Field(alias="lockOutLane")
    # From a leaver's HR event to its user disabled and signed out; slower alarms.
    lock_out_slo_seconds: Annotated[int, Field(ge=1, le=86_400)] = Field(alias="lockOutSloSeconds")
    reconciliation: Annotated[ReconciliationPolicy, BeforeValidator(_json_text)] = Field(
        alias="reconciliation"
    )
    reconciler: Annotated[ReconcilerKnobs, BeforeValidator(_json_text)] = Field(alias="reconciler")

    @model_validator(mode="after")
    def _consistent(self) -> DeploymentConfig:
        for principal in self.event_publishers:
            if not (_ACCOUNT_ID.match(principal) or _PRINCIPAL_ARN.match(principal)):
                raise ValueError(
                    f"eventPublishers: {principal!r} is neither a 12-digit account id "
                    " nor an IAM principal ARN"
                )
        for name, rate in self.quota_overrides.items():
            self._check_quota_override(name, rate)
        for name in self.action_overrides:
            if name not in ACTIONS_BY_NAME and name not in {PLANNER.name, PLANNER.lock_out_lane_name}:
                raise ValueError(f"actionOverrides: unknown action {name!r}")
            tuning = self.tuning(name)
            if self.deadline_margin_ms >= tuning.function_timeout_seconds * 1000 // 2:
                raise ValueError(f"actionOverrides: {name}'s timeout leaves no time after deadlineMarginMs")
        if self.deadline_margin_ms >= self.function_timeout_seconds * 1000 // 2:
            raise ValueError("deadlineMarginMs must be under half of functionTimeoutSeconds")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(f"logRetentionDays: CloudWatch Logs accepts only {sorted(LOG_RETENTION_DAYS)}")
        if self.alarm_email and not _EMAIL.match(self.alarm_email):
            raise ValueError(f"alarmEmail: {self.alarm_email!r} is not an e-mail address")
        if self.outcome_event_source in self.command_sources:
            raise ValueError(
                "outcomeEventSource must not be a command source: outcomes would be read as commands"
            )
        self._planner_sources_apart()
        return self

    @staticmethod
    def _check_quota_override(name: str, rate: int) -> None:
        if name not in _QUOTA_NAMES:
            raise ValueError(
                f"quotaOverrides: unknown quota category {name!r} (known: {sorted(_QUOTA_NAMES)})"
            )
        default = next(c.requests_per_second for c in QuotaCategory if c.quota_name == name)
        if name in FIXED_QUOTAS:
            highest, why = default, f"{name} is fixed at {default} requests/s by AWS; it can only be lowered"
        else:
            highest, why = MAX_BUDGET_REQUESTS_PER_SECOND, "one budget item takes at most 1000 writes/s"
        if not 1 <= rate <= highest:
            raise ValueError(
                f"quotaOverrides.{name}: {rate} is out of range, 1 to {highest} requests/s ({why})"
            )

    def _planner_sources_apart(self) -> None:
        """The planner's inputs are told apart by their source; a source shared by two of them would let one
        publisher pass for another (a worker, whose role may publish outcomes, releasing the hold)."""
        if PLANNER.command_source not in self.command_sources:
            raise ValueError(
                f"commandSources must include {PLANNER.command_source!r}: the planner's commands would reach"
                " no queue"
            )
        if set(self.hr_event_sources) & {self.outcome_event_source, PLANNER.command_source}:
            raise ValueError(
                "hrEventSources must not include outcomeEventSource or the planner's command source"
                f" {PLANNER.command_source!r}"
            )
        if self.operator_event_source in {
            self.outcome_event_source,
            PLANNER.command_source,
            *self.hr_event_sources,
        }:
            raise ValueError(
                "operatorEventSource must be a source of its own: not outcomeEventSource, an HR source or the"
                f" planner's command source {PLANNER.command_source!r}"
            )

    @property
    def sandbox(self) -> bool:
        """No pool id given: the stack creates a sandbox pool."""
        return not self.user_pool_id

    def tuning(self, action: str) -> WorkerTuning:
        """The function and event-source knobs of one action: the defaults, then its overrides. A lock-out
        step's function and the planner's lock-out lane gather no batch unless overridden: a leaver's
        lock-out passes three of their queues (the lane, the step, its outcome back to the lane), and
        each window would add its length to the time to lock-out."""
        lock_out_path = action in {PLANNER.lock_out_lane_name, *PLANNER.lock_out_actions}
        defaults = {
            "functionTimeoutSeconds": self.function_timeout_seconds,
            "functionMemoryMb": self.function_memory_mb,
            "batchSize": self.batch_size,
            "maxBatchingWindowSeconds": 0 if lock_out_path else self.max_batching_window_seconds,
        }
        return WorkerTuning.model_validate({**defaults, **self.action_overrides.get(action, {})})

    def requests_per_second(self, category: QuotaCategory) -> int:
        """The category's quota: Cognito's default, or the context's override."""
        return self.quota_overrides.get(category.quota_name, category.requests_per_second)

    @classmethod
    def from_context(cls, node: ContextSource) -> DeploymentConfig:
        """Read and validate the knobs; a bad or missing one fails synth with its name and the reason."""
        names = [field.alias for field in cls.model_fields.values() if field.alias]
        raw = {name: node.try_get_context(name) for name in names}
        missing = sorted(name for name, value in raw.items() if value is None)
        if missing:
            raise ValueError(
                f"CDK context is missing {', '.join(missing)}: run from the repository root (cdk.json)"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            raise ValueError(f"invalid CDK context: {error}") from None
