"""A leaver's deletion after deleteAfterDays: a one-time EventBridge Scheduler schedule that sends the
AdminDeleteUser command to its queue; a rehire cancels it."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cognito_workers.errors import RetryableFailure, error_code, retried_on_aws_error
from cognito_workers.lifecycle.plans import PlannedCommand

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient


def schedule_name(username: str) -> str:
    """Schedule names allow [0-9a-zA-Z-_.] up to 64 characters; usernames allow much more."""
    return f"delete-user-{hashlib.sha256(username.encode()).hexdigest()[:40]}"


class DeletionSchedules:
    def __init__(
        self,
        client: EventBridgeSchedulerClient,
        *,
        group: str,
        queue_arn: str,
        dead_letter_arn: str,
        role_arn: str,
    ) -> None:
        self._client = client
        self._group = group
        self._queue_arn = queue_arn
        self._dead_letter_arn = dead_letter_arn
        self._role_arn = role_arn

    def schedule(self, username: str, command: PlannedCommand, at: datetime.datetime) -> None:
        request: dict[str, Any] = {
            "Name": schedule_name(username),
            "GroupName": self._group,
            "ScheduleExpression": f"at({at.astimezone(datetime.UTC):%Y-%m-%dT%H:%M:%S})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": self._queue_arn,
                "RoleArn": self._role_arn,
                "Input": json.dumps({"action": command.action, **command.envelope()}),
                # Undeliverable within a day: to the AdminDeleteUser DLQ (and its alarm), not dropped.
                "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
                "DeadLetterConfig": {"Arn": self._dead_letter_arn},
            },
        }
        try:
            self._client.create_schedule(**request)
        except ClientError as error:
            if error_code(error) != "ConflictException":
                raise RetryableFailure(error_code(error), str(error)) from error
            retried_on_aws_error(lambda: self._client.update_schedule(**request))  # a later leaver moves it

    def cancel(self, username: str) -> None:
        try:
            self._client.delete_schedule(Name=schedule_name(username), GroupName=self._group)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":  # nothing was scheduled: as wanted
                raise RetryableFailure(error_code(error), str(error)) from error
