"""The idempotency table the workers share (Powertools' DynamoDB persistence layer).

Powertools keys a record by "id" (a string: the function's key prefix plus the hash of the command's
idempotency key) and sets "expiration" (epoch seconds) for DynamoDB's TTL to remove it.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

PARTITION_KEY = "id"
TTL_ATTRIBUTE = "expiration"


class IdempotencyTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            # Records are redacted, expire within days and only guard against repeats: nothing to keep
            # once the workers are gone.
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
