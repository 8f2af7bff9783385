"""The outcome events on the deployed bus, as the HR system would subscribe to them: the stack puts no rule on
them, so deploy-check adds a queue and a rule for the outcome source at check time (and says so)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

Event = dict[str, Any]


class OutcomeLog:
    """Every event read off the check-time queue, in the order read."""

    def __init__(
        self, sqs: SQSClient, events: EventBridgeClient, *, bus: str, name: str, source: str
    ) -> None:
        self._sqs = sqs
        self.queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [source]}))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "outcomes", "Arn": queue_arn}])
        self.addition = f"queue {name} and rule {name} on {bus} (source {source})"
        self.events: list[Event] = []

    def _read(self) -> None:
        answer = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            self.events.append(json.loads(message["Body"]))
            self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def wait_until(self, condition: Callable[[list[Event]], bool], timeout_s: float) -> bool:
        """Read until `condition` holds of the events read so far, or the time is up."""
        deadline = time.monotonic() + timeout_s
        while not condition(self.events):
            if time.monotonic() > deadline:
                return False
            self._read()
        return True

    def first(self, matches: Callable[[Event], bool], timeout_s: float) -> Event | None:
        """The first event read that `matches`, waiting for it up to `timeout_s`."""
        if self.wait_until(lambda events: any(matches(event) for event in events), timeout_s):
            return next(event for event in self.events if matches(event))
        return None


def summary(event: Event | None) -> str:
    """The outcome's kind and, for a refusal, its error code: never its result (which may hold tokens)."""
    if event is None:
        return "no outcome"
    error = event["detail"].get("error")
    return f"{event['detail-type']} ({error['code']})" if error else str(event["detail-type"])
