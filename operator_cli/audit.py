"""The audit stream: every outcome event of the workers and every plan event of the planner (the outcome
source's events on the bus), read from an SQS queue subscribed to it, and told in one line each.

The stack puts no rule on the outcome source (its consumers are the operator's to choose); the local AWS
adds a queue collecting them, and in AWS an operator subscribes a queue (or a CloudWatch Logs group) with a
rule on the source.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# Long enough to spare requests, short enough for a reader to notice that it was told to stop.
WAIT_SECONDS = 1
# The events that need someone's attention (serve --quiet prints only these, and the plans' own).
ATTENTION = frozenset({"ActionRejected", "ActionFailed", "LifecycleEventRejected", "LifecycleEventFailed"})


def correlation_of(event: dict[str, Any]) -> str:
    """What ties an event to its cause: a command's correlation id, which for the planner's steps is the
    plan's id, the HR event's id."""
    detail = event["detail"]
    return str(detail.get("correlationId") or detail.get("planId") or detail.get("messageId") or "")


def is_plan_event(event: dict[str, Any]) -> bool:
    return "planId" in event["detail"]


def audit_line(event: dict[str, Any]) -> str:
    """One line for people: when, what, of what and whom, its correlation id, and why when it says."""
    detail = event["detail"]
    subject = detail.get("action") or detail.get("eventType") or detail.get("detailType") or ""
    error = detail.get("error") or {}
    fields = {
        "user": detail.get("username"),
        "correlation": correlation_of(event),
        "reason": detail.get("reason"),
        "error": f"{error['code']}: {error.get('message', '')}" if error else None,
        "released": ", ".join(detail["released"]) if detail.get("released") else None,
    }
    told = " ".join(f"{name}={value}" for name, value in fields.items() if value)
    return f"{event.get('time', '')} {event['detail-type']} {subject} {told}".strip()


class AuditQueue:
    """A queue subscribed to the audit stream, read as its consumer: each event read is deleted, except
    those of another correlation id than the one asked for, which are left for other readers (held while
    this reader runs, so that it does not read them again, and visible again once `release`d)."""

    def __init__(
        self,
        sqs: SQSClient,
        url: str,
        correlation_id: str | None = None,
        *,
        wait_seconds: int = WAIT_SECONDS,
    ) -> None:
        self._sqs = sqs
        self._wait_seconds = wait_seconds
        self._url = url
        self._correlation_id = correlation_id
        self._held: dict[str, str] = {}  # message id -> its latest receipt handle

    def read(self, *, follow: bool, stopping: threading.Event | None = None) -> Iterator[dict[str, Any]]:
        """The events in the queue, until it is empty; with `follow`, until `stopping` is set (or forever)."""
        while not (stopping and stopping.is_set()):
            messages = self._sqs.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=self._wait_seconds
            ).get("Messages", [])
            if not messages and not follow:  # nothing came within the wait: it is empty
                return
            yield from self._take(messages)

    def release(self) -> None:
        """Make the events left for other readers visible again at once."""
        handles = list(self._held.values())
        self._held.clear()
        for start in range(0, len(handles), 10):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for index, handle in enumerate(handles[start : start + 10])
                ],
            )

    def _take(self, messages: list[MessageTypeDef]) -> Iterator[dict[str, Any]]:
        taken = []
        for message in messages:
            event = json.loads(message["Body"])
            if self._correlation_id in (None, correlation_of(event)):
                taken.append(message)
                yield event
            else:
                self._held[message["MessageId"]] = message["ReceiptHandle"]
        if taken:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(taken)],
            )
