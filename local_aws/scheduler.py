"""EventBridge Scheduler's one-time schedules kept locally, on a clock of our own.

moto 5.2.5 serves the Scheduler API (create, get, list, update and delete of schedules and groups) but
only stores schedules: nothing ever fires. `LocalScheduler.fire_due()` does what the service would at
each due time: it sends the target's Input to the target's SQS queue and, with ActionAfterCompletion
DELETE, deletes the schedule. The clock is injectable, so a test can stand a month later without waiting.

What it keeps: one-time `at(yyyy-mm-ddThh:mm:ss)` schedules in ScheduleExpressionTimezone (UTC by
default), ENABLED ones only, targets that are SQS queues (SqsParameters.MessageGroupId is passed on), the
Input's context attributes (<aws.scheduler.schedule-arn>, ...). A flexible time window fires at its
start. Not kept: rate() and cron() schedules, other targets, schedules without Input (the service's
"default notification" is not documented): they are logged once and left alone. A send that fails is
tried again at the next call; a schedule fires at most once per LastModificationDate (an update re-arms
it, as in the service). Run one LocalScheduler per server: two would both send a schedule due at once.

moto answers a CreateSchedule in a group that does not exist with HTTP 500 (the service: a
ResourceNotFoundException): create the group first.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_scheduler.type_defs import GetScheduleOutputTypeDef, ScheduleSummaryTypeDef
    from mypy_boto3_sqs import SQSClient

Clock = Callable[[], datetime]

_ONE_TIME = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
# A schedule's version: the service re-arms a schedule when it is updated.
_Version = tuple[str, datetime]

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def due_time(schedule: GetScheduleOutputTypeDef) -> datetime | None:
    """When a one-time schedule is due, as an aware datetime; None for rate() and cron() schedules."""
    match = _ONE_TIME.fullmatch(schedule.get("ScheduleExpression", ""))
    if match is None:
        return None
    zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
    return datetime.fromisoformat(match[1]).replace(tzinfo=zone)


def unsupported(schedule: GetScheduleOutputTypeDef) -> str | None:
    """Why the local scheduler does not keep this schedule, or None when it does."""
    if due_time(schedule) is None:
        return f"{schedule['ScheduleExpression']} is not a one-time at() expression"
    if schedule["Target"]["Arn"].split(":")[2] != "sqs":
        return "its target is not an SQS queue"
    if "Input" not in schedule["Target"]:
        return "its target has no Input"
    return None


class LocalScheduler:
    def __init__(
        self,
        clock: Clock = utc_now,
        *,
        scheduler: EventBridgeSchedulerClient | None = None,
        sqs: SQSClient | None = None,
        group_names: Sequence[str] = (),
    ) -> None:
        """`group_names` limits it to those schedule groups (every group when empty): schedules that other
        code on the same server left behind stay untouched."""
        self._clock = clock
        self._scheduler = scheduler or boto3.client("scheduler")
        self._sqs = sqs or boto3.client("sqs")
        self._group_names = tuple(group_names)
        self._lock = threading.Lock()
        self._details: dict[_Version, GetScheduleOutputTypeDef] = {}
        # True once sent; False for a schedule it does not keep (logged once).
        self._fired: dict[_Version, bool] = {}
        self._queue_urls: dict[str, str] = {}

    def fire_due(self) -> list[str]:
        """Send every due schedule not yet sent and delete those that ask for it; returns the ARNs sent."""
        with self._lock:
            now = self._clock()
            if now.tzinfo is None:
                raise ValueError("the clock must return an aware datetime")
            sent: list[str] = []
            listed: dict[_Version, GetScheduleOutputTypeDef] = {}
            for summary in self._enabled_schedules():
                version = (summary["Arn"], summary["LastModificationDate"])
                listed[version] = schedule = self._details.get(version) or self._get(summary)
                if version not in self._fired:
                    if reason := unsupported(schedule):
                        logger.warning("schedule %s is not kept locally: %s", summary["Arn"], reason)
                        self._fired[version] = False
                        continue
                    due = due_time(schedule)
                    if due is None or due > now or not self._send(schedule, due):
                        continue
                    self._fired[version] = True
                    sent.append(summary["Arn"])
                if self._fired[version] and schedule.get("ActionAfterCompletion") == "DELETE":
                    self._delete(schedule)
            self._details = listed
            self._fired = {version: fired for version, fired in self._fired.items() if version in listed}
            return sent

    def _enabled_schedules(self) -> Iterator[ScheduleSummaryTypeDef]:
        pages = self._scheduler.get_paginator("list_schedules")
        for group in self._group_names or (None,):
            query: dict[str, Any] = {"State": "ENABLED"} | ({"GroupName": group} if group else {})
            for page in pages.paginate(**query):
                yield from page["Schedules"]

    def _get(self, summary: ScheduleSummaryTypeDef) -> GetScheduleOutputTypeDef:
        # A summary carries no expression and no Input; a schedule's version never changes them.
        return self._scheduler.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])

    def _send(self, schedule: GetScheduleOutputTypeDef, due: datetime) -> bool:
        """Deliver the target's Input; False when the queue refused it (it stays due for the next call)."""
        target = schedule["Target"]
        body = (
            target["Input"]
            .replace("<aws.scheduler.schedule-arn>", schedule["Arn"])
            .replace("<aws.scheduler.scheduled-time>", due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
            .replace("<aws.scheduler.attempt-number>", "1")
        )
        try:
            request: dict[str, Any] = {"QueueUrl": self._queue_url(target["Arn"]), "MessageBody": body}
            if group := target.get("SqsParameters", {}).get("MessageGroupId"):
                request["MessageGroupId"] = group
            self._sqs.send_message(**request)
        except ClientError:
            logger.exception("schedule %s: its target refused the message; trying again", schedule["Arn"])
            return False
        return True

    def _delete(self, schedule: GetScheduleOutputTypeDef) -> None:
        try:
            self._scheduler.delete_schedule(Name=schedule["Name"], GroupName=schedule["GroupName"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise

    def _queue_url(self, queue_arn: str) -> str:
        if queue_arn not in self._queue_urls:
            *_, account, name = queue_arn.split(":")
            self._queue_urls[queue_arn] = self._sqs.get_queue_url(
                QueueName=name, QueueOwnerAWSAccountId=account
            )["QueueUrl"]
        return self._queue_urls[queue_arn]
