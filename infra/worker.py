"""One catalog action's worker: a queue-fed function (infra/consumer.py) allowed its one Cognito action.

Beyond what every consumer has, a worker calls `cognito-idp:<its action>` on the managed pool (and the read
that confirms a repeat answer, where the catalog names one: ActionSpec.cognito_actions), keeps its
idempotency records in the shared table, books its Cognito calls in the quota budget's table (UpdateItem
only; its environment names its category's rate) and publishes outcome events (source = the outcome
source).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from constructs import Construct

from cognito_workers.catalog import ActionSpec
from infra.config import WorkerTuning
from infra.consumer import ConsumerShared, QueueFedFunction


@dataclass(frozen=True, kw_only=True)
class WorkerShared:
    """What every action worker uses beyond what every consumer does: built once by the stack."""

    consumer: ConsumerShared
    user_pool_arn: str
    table_name: str
    table_arn: str
    idempotency_expiry_seconds: int
    budget_table_name: str
    budget_table_arn: str


class ActionWorker(QueueFedFunction):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: ActionSpec,
        tuning: WorkerTuning,
        maximum_concurrency: int,
        requests_per_second: int,
        shared: WorkerShared,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            name=spec.name,
            handler=spec.handler,
            description=f"Cognito {spec.name} worker (SQS-triggered, idempotent)",
            role_description=f"{spec.name} worker: {', '.join(_cognito_actions(spec))} on the managed pool,"
            " its queues",
            statements=_worker_statements(spec, shared),
            environment={
                "IDEMPOTENCY_TABLE_NAME": shared.table_name,
                "IDEMPOTENCY_EXPIRY_SECONDS": str(shared.idempotency_expiry_seconds),
                "QUOTA_BUDGET_TABLE_NAME": shared.budget_table_name,
                "QUOTA_REQUESTS_PER_SECOND": str(requests_per_second),
            },
            tuning=tuning,
            maximum_concurrency=maximum_concurrency,
            shared=shared.consumer,
        )
        self.spec = spec


def _cognito_actions(spec: ActionSpec) -> list[str]:
    return [f"cognito-idp:{action}" for action in spec.cognito_actions]


def _worker_statements(spec: ActionSpec, shared: WorkerShared) -> list[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(
            sid="CallItsCognitoAction",
            actions=_cognito_actions(spec),
            resources=[shared.user_pool_arn],
        ),
        iam.PolicyStatement(
            sid="KeepIdempotencyRecords",
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            resources=[shared.table_arn],
        ),
        iam.PolicyStatement(
            sid="BookQuotaBudget",
            actions=["dynamodb:UpdateItem"],
            resources=[shared.budget_table_arn],
        ),
        shared.consumer.publish_statement("PublishOutcomeEvents", shared.consumer.outcome_event_source),
    ]
