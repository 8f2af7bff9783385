"""The customer managed KMS key that encrypts the queues, the tables, the alarm topic and the command archive.

A customer managed key (not SQS's AWS managed one) because EventBridge can deliver to an encrypted queue
only when the key policy lets it, and an AWS managed key's policy cannot be changed. One key for the
stack: the queues of 20 actions with a key each would cost 40 keys for no separation the queue policies
and IAM policies do not already give (a principal needs both the queue's and the key's permission).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class DataKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, description: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(self, "Key", description=description, enable_key_rotation=True)
        # EventBridge rules deliver commands (and failed deliveries) into the encrypted queues. We found
        # no documented condition key that the KMS request of this delivery carries, and a wrong one
        # silently drops every event; which rule may send to which queue is decided by each queue's
        # policy (aws:SourceArn = that rule), so the key grants only the two operations SQS needs.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeDeliversToEncryptedQueues",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
            )
        )
        # CloudWatch alarms publish to the encrypted alarm topic (SNS developer guide, "compatibility
        # between event sources from AWS services and encrypted topics"); only alarms of this account.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToEncryptedTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )

    def allow_event_bus_archive(self, *, bus_arn: str) -> None:
        """Let EventBridge encrypt the archive of the bus `bus_arn` with this key: what the EventBridge user
        guide ("Encrypting EventBridge archives with AWS KMS keys") asks for, the data-key operations only in
        the encryption context EventBridge gives every archive operation, which names the bus."""
        events_service = iam.ServicePrincipal("events.amazonaws.com")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeDescribesKeyOfArchive",
                principals=[events_service],
                actions=["kms:DescribeKey"],
                resources=["*"],
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeEncryptsArchiveOfBus",
                principals=[events_service],
                actions=["kms:GenerateDataKey", "kms:Decrypt", "kms:ReEncrypt*"],
                resources=["*"],
                conditions={"StringEquals": {"kms:EncryptionContext:aws:events:event-bus:arn": bus_arn}},
            )
        )

    def use_statement(self, *, via: Sequence[str]) -> iam.PolicyStatement:
        """What a principal needs of the key to use the queues, tables and objects it encrypts (SQS: receive
        and send; DynamoDB, S3: read and write), and only through the services named in `via` ("sqs",
        "dynamodb", "s3")."""
        services = {"sqs": "Sqs", "dynamodb": "DynamoDb", "s3": "S3"}
        return iam.PolicyStatement(
            sid=f"UseDataKeyThrough{'And'.join(services[service] for service in via)}",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[self.key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": [f"{service}.{cdk.Aws.REGION}.amazonaws.com" for service in via]
                }
            },
        )
