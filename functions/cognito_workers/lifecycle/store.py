"""The planner's DynamoDB table: one item per person (state + version for optimistic concurrency), a leaver
counter per time window, and the set of people whose deprovisioning is on hold."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from cognito_workers.errors import RetryableFailure, error_code, retried_on_aws_error
from cognito_workers.lifecycle.state import PersonState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_HELD_KEY = "held"
_WINDOW_TTL = datetime.timedelta(days=2)


class VersionConflict(Exception):
    """Someone else saved the person's state since it was read."""


class LifecycleStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self, username: str) -> tuple[PersonState, int]:
        item = retried_on_aws_error(
            lambda: self._client.get_item(
                TableName=self._table, Key={"pk": {"S": f"person#{username}"}}, ConsistentRead=True
            )
        ).get("Item")
        if item is None:
            return PersonState(username=username), 0
        return PersonState.model_validate_json(item["state"]["S"]), int(item["version"]["N"])

    def save(self, state: PersonState, version: int) -> None:
        """Save if nobody saved since `version` was read; else raise VersionConflict."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"person#{state.username}"},
                    "state": {"S": state.model_dump_json()},
                    "version": {"N": str(version + 1)},
                },
                ConditionExpression="attribute_not_exists(pk) OR version = :read",
                ExpressionAttributeValues={":read": {"N": str(version)}},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise VersionConflict(state.username) from None
            raise RetryableFailure(error_code(error), str(error)) from error

    def count_leaver(self, now: datetime.datetime, window: datetime.timedelta) -> int:
        """Count one more deprovisioning in the window `now` falls in; return the window's count."""
        start = int(now.timestamp() // window.total_seconds() * window.total_seconds())
        answer = retried_on_aws_error(
            lambda: self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"leavers#{start}"}},
                UpdateExpression="ADD leavers :one SET expiration = :expiration",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":expiration": {"N": str(int((now + _WINDOW_TTL).timestamp()))},
                },
                ReturnValues="UPDATED_NEW",
            )
        )
        return int(answer["Attributes"]["leavers"]["N"])

    def reset_leavers(self, now: datetime.datetime, window: datetime.timedelta) -> None:
        start = int(now.timestamp() // window.total_seconds() * window.total_seconds())
        retried_on_aws_error(
            lambda: self._client.delete_item(TableName=self._table, Key={"pk": {"S": f"leavers#{start}"}})
        )

    def hold(self, username: str) -> None:
        self._update_held("ADD", username)

    def unhold(self, username: str) -> None:
        self._update_held("DELETE", username)

    def held(self) -> list[str]:
        item = retried_on_aws_error(
            lambda: self._client.get_item(
                TableName=self._table, Key={"pk": {"S": _HELD_KEY}}, ConsistentRead=True
            )
        ).get("Item")
        return sorted(item["usernames"]["SS"]) if item and "usernames" in item else []

    def _update_held(self, operation: str, username: str) -> None:
        retried_on_aws_error(
            lambda: self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": _HELD_KEY}},
                UpdateExpression=f"{operation} usernames :username",
                ExpressionAttributeValues={":username": {"SS": [username]}},
            )
        )
