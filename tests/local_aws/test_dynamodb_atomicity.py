"""The local server's DynamoDB answers one request at a time, so conditional writes are atomic, as in
DynamoDB (moto's own are not under concurrent requests: see local_aws/dynamodb_atomicity.py)."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_aws import dynamodb_atomicity
from local_aws.server import LocalAws

RACERS = 8
ROUNDS = 150


@pytest.fixture(scope="module")
def table(local_aws: LocalAws) -> str:
    boto3.client("dynamodb").create_table(
        TableName="atomicity",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "atomicity"


def _race(clients: list[Any], table: str, key: str) -> list[str]:
    """Every client puts the same new key at once, on the condition that it does not exist yet."""
    answers: list[str] = []
    start = threading.Barrier(len(clients))

    def put(client: Any) -> None:
        start.wait()
        try:
            client.put_item(
                TableName=table, Item={"id": {"S": key}}, ConditionExpression="attribute_not_exists(id)"
            )
            answers.append("won")
        except ClientError as error:
            answers.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=put, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(answers)


def test_a_conditional_put_raced_by_many_clients_is_won_once(table: str) -> None:
    clients = [boto3.client("dynamodb") for _ in range(RACERS)]

    rounds = [_race(clients, table, f"key-{number}") for number in range(ROUNDS)]

    expected = ["ConditionalCheckFailedException"] * (RACERS - 1) + ["won"]
    assert [answers for answers in rounds if answers != expected] == []


def test_install_again_does_not_wrap_twice() -> None:
    from moto.dynamodb.responses import DynamoHandler

    dynamodb_atomicity.install()
    once = DynamoHandler.call_action
    dynamodb_atomicity.install()

    assert DynamoHandler.call_action is once
    assert getattr(once, "serialized", False)
