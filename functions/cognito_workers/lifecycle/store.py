"""The planner's DynamoDB table: one item per person (state, version for optimistic concurrency, and the
outbox: the effects of the transition that saved it, until they are known to be published), a leaver
counter per time window, and the set of people whose deprovisioning is on hold."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, NamedTuple

from botocore.exceptions import ClientError

from cognito_workers.errors import RetryableFailure, error_code, retried_on_aws_error
from cognito_workers.lifecycle.state import Effects, PersonState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_HELD_KEY = "held"


def _person_key(username: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"person#{username}"}}


_WINDOW_TTL = datetime.timedelta(days=2)


class VersionConflict(Exception):
    """Someone else saved the person's state since it was read."""


class Saved(NamedTuple):
    state: PersonState
    version: int
    outbox: Effects | None  # effects saved with the state and not yet known to be published


class LifecycleStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self, username: str) -> Saved:
        item = retried_on_aws_error(
            lambda: self._client.get_item(
                TableName=self._table, Key=_person_key(username), ConsistentRead=True
            )
        ).get("Item")
        if item is None:
            return Saved(PersonState(username=username), 0, None)
        outbox = Effects.model_validate_json(item["outbox"]["S"]) if "outbox" in item else None
        return Saved(PersonState.model_validate_json(item["state"]["S"]), int(item["version"]["N"]), outbox)

    def save(self, state: PersonState, version: int, outbox: Effects | None) -> int:
        """Save the state with its outbox in one write, if nobody saved since `version` was read (else
        raise VersionConflict); the version saved."""
        item = {"state": {"S": state.model_dump_json()}, "version": {"N": str(version + 1)}}
        if outbox is not None:
            item["outbox"] = {"S": outbox.model_dump_json()}
        try:
            self._client.put_item(
                TableName=self._table,
                Item={**_person_key(state.username), **item},
                ConditionExpression="attribute_not_exists(pk) OR version = :read",
                ExpressionAttributeValues={":read": {"N": str(version)}},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise VersionConflict(state.username) from None
            raise RetryableFailure(error_code(error), str(error)) from error
        return version + 1

    def clear_outbox(self, username: str, version: int) -> None:
        """The outbox saved at `version` is published. A later save replaced it already (its transition
        published it first), in which case nothing is cleared."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_person_key(username),
                UpdateExpression="REMOVE outbox",
                ConditionExpression="version = :saved",
                ExpressionAttributeValues={":saved": {"N": str(version)}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
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
