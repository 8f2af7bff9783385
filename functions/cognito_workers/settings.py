"""The functions' environment, validated when a handler is first entered."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cognito_workers.errors import describe_validation_error
from cognito_workers.params import UserPoolIdType


class ConsumerSettings(BaseModel):
    """What every queue consumer reads. Required names have no defaults: a missing one fails the first
    invocation with its name."""

    # Built on first use: a function validates only its own kind of settings.
    model_config = ConfigDict(frozen=True, defer_build=True)

    user_pool_id: UserPoolIdType = Field(alias="USER_POOL_ID")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    # Its own queue, where a contended record's visibility is shortened (consumer.py), and its DLQ.
    queue_url: str = Field(alias="QUEUE_URL", min_length=1)
    dead_letter_queue_url: str = Field(alias="DEAD_LETTER_QUEUE_URL", min_length=1)
    max_receive_count: Annotated[int, Field(ge=1, le=1000)] = Field(alias="MAX_RECEIVE_COUNT")
    outcome_event_source: str = Field(alias="OUTCOME_EVENT_SOURCE", default="cognito.workers", min_length=1)
    # Below this much remaining Lambda time a record is handed back unprocessed rather than risk a
    # timeout mid-call.
    deadline_margin_ms: Annotated[int, Field(ge=0)] = Field(alias="DEADLINE_MARGIN_MS", default=10_000)

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Self:
        """From the process's environment (Lambda's), or from a function's as the local AWS holds it."""
        environment = os.environ if environment is None else environment
        names = {field.alias for field in cls.model_fields.values() if field.alias}
        try:
            return cls.model_validate({name: environment[name] for name in names if name in environment})
        except ValidationError as error:
            raise RuntimeError(f"invalid environment: {describe_validation_error(error)}") from None


class WorkerSettings(ConsumerSettings):
    """An action worker's environment."""

    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=1)
    idempotency_expiry_seconds: Annotated[int, Field(ge=60)] = Field(
        alias="IDEMPOTENCY_EXPIRY_SECONDS", default=7 * 24 * 3600
    )
    # The account-wide budget of the action's quota category (budget.py): its table and its calls per second.
    quota_budget_table_name: str = Field(alias="QUOTA_BUDGET_TABLE_NAME", min_length=1)
    quota_requests_per_second: Annotated[int, Field(ge=1)] = Field(alias="QUOTA_REQUESTS_PER_SECOND")


class PlannerSettings(ConsumerSettings):
    """The lifecycle planner's environment."""

    lifecycle_table_name: str = Field(alias="LIFECYCLE_TABLE_NAME", min_length=1)
    delete_queue_arn: str = Field(alias="DELETE_QUEUE_ARN", min_length=1)
    # Where the scheduler puts a deletion it could not deliver, so that none is lost unseen.
    delete_dead_letter_queue_arn: str = Field(alias="DELETE_DEAD_LETTER_QUEUE_ARN", min_length=1)
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", min_length=1)
    schedule_group_name: str = Field(alias="SCHEDULE_GROUP_NAME", min_length=1)
    leaver_threshold: Annotated[int, Field(ge=1)] = Field(alias="LEAVER_THRESHOLD", default=50)
    leaver_window_minutes: Annotated[int, Field(ge=1)] = Field(alias="LEAVER_WINDOW_MINUTES", default=60)
