"""The stack's DynamoDB tables: the workers' idempotency records, their quota budget and the planner's
lifecycle state.

All are keyed by one string attribute, expire items by DynamoDB's TTL on "expiration" (epoch seconds), keep
point-in-time recovery and are encrypted with the stack's key; `_state_table` builds them alike.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from cognito_workers import budget

TTL_ATTRIBUTE = "expiration"


def _state_table(scope: Construct, construct_id: str, *, partition_key: str, key: kms.IKey) -> dynamodb.Table:
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute=TTL_ATTRIBUTE,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        # Both tables are only of use to this stack's functions: nothing to keep once they are gone.
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


class IdempotencyTable(Construct):
    """Powertools' DynamoDB persistence layer: a record per command, keyed by "id" (the function's key
    prefix plus the hash of the command's idempotency key), removed by TTL after the expiry."""

    PARTITION_KEY = "id"

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.table = _state_table(self, "Table", partition_key=self.PARTITION_KEY, key=key)


class LifecycleTable(Construct):
    """The planner's state (functions/cognito_workers/lifecycle/store.py), keyed by "pk": an item per person
    (the plans and a version for optimistic concurrency), a leaver counter per time window (expires by TTL)
    and the set of people whose deprovisioning is on hold."""

    PARTITION_KEY = "pk"

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.table = _state_table(self, "Table", partition_key=self.PARTITION_KEY, key=key)


class QuotaBudgetTable(Construct):
    """The account-wide Cognito request budget (functions/cognito_workers/budget.py), keyed by "slot": an
    item per quota category and second, counting the calls booked in it; expired by TTL an hour later."""

    PARTITION_KEY = budget.PARTITION_KEY

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.table = _state_table(self, "Table", partition_key=self.PARTITION_KEY, key=key)
