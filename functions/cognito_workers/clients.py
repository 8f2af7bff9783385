"""AWS clients, created on first use and replaceable (tests and the local runtime inject their own).

boto3 honours AWS_ENDPOINT_URL, so the same code talks to AWS or to the local endpoint. Retries use
botocore's standard mode; the timeouts keep a call's worst case well under the function timeout.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_sqs import SQSClient

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
)


class AwsClients:
    """One lazily created client per service; assign an attribute to inject a replacement."""

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session

    @cached_property
    def session(self) -> boto3.session.Session:
        return self._session or boto3.session.Session()

    @cached_property
    def cognito_idp(self) -> CognitoIdentityProviderClient:
        return self.session.client("cognito-idp", config=CLIENT_CONFIG)

    @cached_property
    def sqs(self) -> SQSClient:
        return self.session.client("sqs", config=CLIENT_CONFIG)

    @cached_property
    def events(self) -> EventBridgeClient:
        return self.session.client("events", config=CLIENT_CONFIG)

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return self.session.client("dynamodb", config=CLIENT_CONFIG)

    @cached_property
    def scheduler(self) -> EventBridgeSchedulerClient:
        return self.session.client("scheduler", config=CLIENT_CONFIG)

    @cached_property
    def s3(self) -> S3Client:
        return self.session.client("s3", config=CLIENT_CONFIG)
