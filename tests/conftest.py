"""Shared fixtures: one local AWS (moto's server over HTTP) and one provisioned deployment per session."""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from cognito_workers.worker import ActionWorker
from local_aws.cognito_extensions import DeliveryCounts
from local_aws.deployment import LocalDeployment, provision
from local_aws.lambda_sqs import BatchReport, configured_worker, deliver_to_worker
from local_aws.server import LocalAws, start_local_aws
from tests.fuzz import cases


def pytest_sessionfinish(session: pytest.Session) -> None:
    cases.finish(session)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any) -> None:
    """pytest-xdist's controller, as each worker ends."""
    cases.worker_done(node)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    cases.summary(terminalreporter)


os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_DEV", "false")


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with start_local_aws() as aws:
        aws.export_environment()
        yield aws


@pytest.fixture
def register_device(local_aws: LocalAws) -> Callable[[str, str, str], str]:
    return local_aws.register_device


@pytest.fixture
def delivery_counts(local_aws: LocalAws) -> Callable[[], dict[tuple[str, str], DeliveryCounts]]:
    return local_aws.delivery_counts


@pytest.fixture(scope="session")
def deployment(local_aws: LocalAws) -> LocalDeployment:
    return provision(local_aws.endpoint_url, local_aws.region)


@pytest.fixture(scope="session")
def cognito(local_aws: LocalAws) -> Any:
    return boto3.client("cognito-idp")


@pytest.fixture(scope="session")
def sqs(local_aws: LocalAws) -> Any:
    return boto3.client("sqs")


@pytest.fixture(scope="session")
def reconcile_deployment(local_aws: LocalAws) -> LocalDeployment:
    """A deployment of the reconciliation tests' own: a reconciliation reads the whole pool, where the other
    tests' users would be strays. A short prefix: the local AWS names an unnamed rule
    <stack>-<prefix>-<logical id>, cut at 64 characters, which a longer one makes alike for the planner's.
    Without the stack's batching windows: the tests drive whole rosters through it and check end states."""
    return provision(local_aws.endpoint_url, local_aws.region, prefix="rec-tests", batching_window_seconds=0)


@pytest.fixture
def empty_reconcile_pool(reconcile_deployment: LocalDeployment, cognito: Any, sqs: Any) -> str:
    """The reconciliation deployment's pool, emptied, and no repair of an earlier test left for its planner:
    each test starts from the users it seeds."""
    pool_id = reconcile_deployment.user_pool_id
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id):
        for listed in page["Users"]:
            cognito.admin_delete_user(UserPoolId=pool_id, Username=listed["Username"])
    for function in reconcile_deployment.planner_functions:  # the planner's queue and its lock-out lane's
        url = function.queue.url
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return pool_id


@dataclass
class Pipeline:
    """Drives one action's real handler the way Lambda's SQS event source does, and reads the outcomes."""

    deployment: LocalDeployment
    sqs: Any
    outcomes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    in_flight: dict[str, list[str]] = field(default_factory=dict)

    def worker(self, action: str) -> ActionWorker:
        return configured_worker(self.deployment, action)

    def send(self, action: str, body: dict[str, Any] | str) -> str:
        text = body if isinstance(body, str) else json.dumps(body)
        return str(
            self.sqs.send_message(QueueUrl=self.deployment.queues[action].url, MessageBody=text)["MessageId"]
        )

    def deliver(self, action: str, context: Any = None) -> BatchReport:
        report = deliver_to_worker(self.deployment, self.sqs, action, context)
        self.in_flight.setdefault(action, []).extend(report.failed_receipt_handles)
        return report

    def release_in_flight(self, action: str) -> None:
        """End the visibility timeout of the action's failed records now, as its expiry would later."""
        for receipt in self.in_flight.pop(action, []):
            self.sqs.change_message_visibility(
                QueueUrl=self.deployment.queues[action].url, ReceiptHandle=receipt, VisibilityTimeout=0
            )

    def run(self, action: str, params: dict[str, Any], **envelope: Any) -> dict[str, Any]:
        """Send one command, deliver it, and return its single outcome event."""
        correlation_id = envelope.pop("correlationId", None) or f"test-{uuid.uuid4()}"
        self.send(action, {"action": action, "correlationId": correlation_id, "params": params, **envelope})
        report = self.deliver(action)
        assert report.received == 1
        (outcome,) = self.outcomes_for(correlation_id)
        return outcome

    def collect_outcomes(self) -> None:
        while messages := self.sqs.receive_message(
            QueueUrl=self.deployment.outcomes_queue_url, MaxNumberOfMessages=10
        ).get("Messages", []):
            for message in messages:
                event = json.loads(message["Body"])
                detail = event["detail"]
                key = detail.get("correlationId") or detail.get("planId") or detail.get("messageId", "")
                self.outcomes.setdefault(key, []).append(event)
                self.sqs.delete_message(
                    QueueUrl=self.deployment.outcomes_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def outcomes_for(self, key: str) -> list[dict[str, Any]]:
        """Audit events by correlation id (plan events by plan id; unparsable inputs by SQS message id)."""
        self.collect_outcomes()
        return self.outcomes.get(key, [])

    def outcomes_of_type(self, detail_type: str) -> list[dict[str, Any]]:
        self.collect_outcomes()
        return [o for found in self.outcomes.values() for o in found if o["detail-type"] == detail_type]

    def outcomes_of_message(self, message_id: str) -> list[dict[str, Any]]:
        """Outcome events of one SQS delivery, whatever its correlation id."""
        self.collect_outcomes()
        return [
            o for found in self.outcomes.values() for o in found if o["detail"]["messageId"] == message_id
        ]

    def dead_letters(self, action: str) -> list[dict[str, Any]]:
        """Drain the action's DLQ and return its messages with their attributes."""
        url = self.deployment.queues[action].dead_letter_url
        drained: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for message in messages:
                drained.append(message)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return drained


@pytest.fixture(scope="session")
def pipeline(deployment: LocalDeployment, sqs: Any) -> Pipeline:
    return Pipeline(deployment=deployment, sqs=sqs)


@pytest.fixture
def worker_logs() -> Iterator[io.StringIO]:
    """The workers' log lines, formatted by Powertools exactly as they reach CloudWatch."""
    from cognito_workers.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger(logger.name).removeHandler(handler)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Unique names keep tests independent on the shared pool."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"
