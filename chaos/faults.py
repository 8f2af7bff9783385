"""Faults injected at the AWS call layer of the workers: a botocore `before-send` hook on their clients.

The hook sits where the network does, under botocore's retries, so the workers meet each fault as they
would meet it in AWS:

- throttling: Cognito answers 400 TooManyRequestsException without applying the call;
- server errors: Cognito answers 500 InternalErrorException without applying the call;
- read timeouts after the call applied: the request reaches the local server, its answer is lost;
- connection resets before the call is sent;
- copies: every command the planner puts on the bus is put `command_copies` times, so it reaches its
  queue that many times, as separate messages (as an at-least-once source delivers them);
- late copies: a share of the planner's commands reaches its queue once more, `late_copy_delay_seconds`
  later (SQS DelaySeconds), as the event EventBridge delivers: out of order with the plan's later steps.

Each fault hits a call with its share of probability, from a seeded generator; the injector counts what it
injected. Only Cognito calls are faulted (and the planner's PutEvents copied): the idempotency table and the
queues stay reliable, as the design assumes of DynamoDB and SQS.
"""

from __future__ import annotations

import datetime
import functools
import json
import random
import threading
import urllib.request
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from cognito_workers.catalog import PLANNER

COGNITO_SERVICE_ID = "cognito-identity-provider"


@dataclass(frozen=True)
class FaultPlan:
    throttle_share: float = 0.0
    server_error_share: float = 0.0
    timeout_after_apply_share: float = 0.0
    reset_share: float = 0.0
    command_copies: int = 1
    late_copy_share: float = 0.0
    late_copy_delay_seconds: int = 8


class _Body:
    """The raw stream an AWSResponse reads its content from."""

    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_: Any) -> Any:
        yield self._payload


class FaultInjector:
    def __init__(self, plan: FaultPlan, seed: int = 7, queue_urls: Mapping[str, str] | None = None) -> None:
        """`queue_urls`: each action's queue, where late copies go."""
        self.plan = plan
        self._queue_urls = queue_urls or {}
        self._random = random.Random(seed)
        # A stream of its own: which commands come late depends on their count alone, not on how the
        # workers' Cognito calls interleave with the planner's puts.
        self._late_random = random.Random(f"{seed}:late")
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def session(self, *, copies_commands: bool = False) -> boto3.session.Session:
        """A boto3 session whose clients meet the plan's faults; the planner's also copies its commands."""
        session = boto3.session.Session()
        session.events.register(f"before-send.{COGNITO_SERVICE_ID}", self._fault_cognito)  # type: ignore[arg-type]  # a before-send handler may answer
        if copies_commands and (self.plan.command_copies > 1 or self.plan.late_copy_share):
            session.events.register("before-send.eventbridge.PutEvents", self._copy_commands)
        return session

    @functools.cached_property
    def _events(self) -> Any:
        return boto3.client("events")

    @functools.cached_property
    def _sqs(self) -> Any:
        return boto3.client("sqs")

    def _draw(self) -> str | None:
        """Which fault, if any, hits this call."""
        plan = self.plan
        with self._lock:
            roll = self._random.random()
            for fault, share in (
                ("throttled", plan.throttle_share),
                ("server error", plan.server_error_share),
                ("timeout after apply", plan.timeout_after_apply_share),
                ("connection reset", plan.reset_share),
            ):
                if roll < share:
                    self.injected[fault] += 1
                    return fault
                roll -= share
        return None

    def _fault_cognito(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        fault = self._draw()
        if fault == "throttled":
            return _error_answer(request, 400, "TooManyRequestsException", "Rate exceeded")
        if fault == "server error":
            return _error_answer(request, 500, "InternalErrorException", "Internal error")
        if fault == "timeout after apply":
            _send(request)
            raise ReadTimeoutError(endpoint_url=request.url)
        if fault == "connection reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        return None

    def _copy_commands(self, request: AWSPreparedRequest, **_: Any) -> None:
        """Put the request's commands `command_copies - 1` more times (its audit events once, as sent), and
        send a share of them late to their queues; botocore then sends the request itself."""
        entries = json.loads(_body(request))["Entries"]
        commands = [entry for entry in entries if entry["Source"] == PLANNER.command_source]
        if not commands:
            return
        for _copy in range(self.plan.command_copies - 1):
            self._events.put_events(Entries=commands)  # unfaulted: the copies are not copied again
        with self._lock:
            self.injected["command copies"] += len(commands) * (self.plan.command_copies - 1)
            late = [command for command in commands if self._late_random.random() < self.plan.late_copy_share]
            self.injected["late copies"] += len(late)
        for command in late:
            self._sqs.send_message(
                QueueUrl=self._queue_urls[command["DetailType"]],
                MessageBody=json.dumps(_as_delivered(command)),
                DelaySeconds=self.plan.late_copy_delay_seconds,
            )


def _as_delivered(entry: dict[str, Any]) -> dict[str, Any]:
    """A PutEvents entry as EventBridge delivers it to a queue target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": boto3.session.Session().region_name,
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


def _send(request: AWSPreparedRequest) -> None:
    """The request as botocore prepared it (signed), sent to the endpoint; the answer is dropped."""
    headers = {
        name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()
    }
    urllib.request.urlopen(
        urllib.request.Request(request.url, data=_body(request), headers=headers, method=request.method),
        timeout=10,
    ).close()


def _body(request: AWSPreparedRequest) -> bytes:
    """botocore's JSON protocols prepare the body as bytes or str, never a stream."""
    body = request.body
    return body if isinstance(body, bytes) else str(body or "").encode()


def _error_answer(request: AWSPreparedRequest, status: int, code: str, message: str) -> AWSResponse:
    payload = json.dumps({"__type": code, "message": message}).encode()
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.1"
    headers["x-amzn-ErrorType"] = code
    return AWSResponse(request.url, status, headers, _Body(payload))
