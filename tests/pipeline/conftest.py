"""A deployment of the pipeline tests' own on the session's server, so that draining its queues and
shortening their visibility timeout touches nothing the other tests use."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from cognito_workers.consumer import QueueConsumer
from local_aws.deployment import LocalDeployment, provision
from local_aws.server import LocalAws
from tests.conftest import Pipeline

PREFIX = "pipeline-tests"
# Long enough that no batch outlives it on a busy machine (a redelivery would change the counts).
VISIBILITY_TIMEOUT_SECONDS = 5
# Where a test waits for failed records to come back: shorter, yet past a cold start (which a received
# record waits out: a first batch's records were delivered twice at 1 s on a busy machine).
SHORT_VISIBILITY_SECONDS = 3


@pytest.fixture(scope="session")
def own_deployment(local_aws: LocalAws) -> LocalDeployment:
    return provision(
        local_aws.endpoint_url,
        local_aws.region,
        visibility_timeout_seconds=VISIBILITY_TIMEOUT_SECONDS,
        prefix=PREFIX,
    )


@pytest.fixture(scope="session")
def audit(own_deployment: LocalDeployment, sqs: Any) -> Pipeline:
    """Reads the deployment's outcome events and DLQs."""
    return Pipeline(deployment=own_deployment, sqs=sqs)


@pytest.fixture
def short_visibility(own_deployment: LocalDeployment, sqs: Any) -> Iterator[Callable[[str], None]]:
    """Makes an action's failed records come back after SHORT_VISIBILITY_SECONDS, for this test only."""
    shortened: list[str] = []

    def shorten(action: str) -> None:
        url = own_deployment.queues[action].url
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"VisibilityTimeout": str(SHORT_VISIBILITY_SECONDS)}
        )
        shortened.append(url)

    yield shorten
    for url in shortened:
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS)}
        )


class Throttle:
    """Cognito answering TooManyRequestsException to calls about one user: the first `times` of them, or
    every one. Installed on each worker the pipeline makes (`prepare=throttle.install`)."""

    def __init__(self, username: str, times: int | None = None) -> None:
        self._username = username
        self._remaining = times
        self._lock = threading.Lock()
        self.answered = 0

    def install(self, worker: QueueConsumer[Any]) -> None:
        worker.clients.cognito_idp.meta.events.register(
            f"before-call.cognito-idp.{worker.name}", self._answer
        )

    def _answer(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if json.loads(params["body"]).get("Username") != self._username:
            return None  # the call goes to Cognito
        with self._lock:
            if self._remaining == 0:
                return None
            if self._remaining is not None:
                self._remaining -= 1
            self.answered += 1
        body = {
            "Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("http://throttled", 400, {}, None), body
