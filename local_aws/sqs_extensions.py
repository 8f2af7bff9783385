"""The SQS operations moto 5.2.5 lacks that operators use: StartMessageMoveTask and ListMessageMoveTasks,
the DLQ redrive of the SQS console and of `cognito-lifecycle dlq redrive`.

Installed in the local server's process by `install()` (idempotent). A task moves, at once and in order,
every message of the source queue that is visible when it starts, with its body and message attributes, to
the destination queue (by default, the queue whose redrive policy names the source: the one it was
dead-lettered from); the messages are new there (new message ids, receive count 0), as in SQS. The task is
then listed COMPLETED with the number moved. Unlike SQS, moves are not rate-limited and messages in flight
stay where they are.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import unix_time_millis
from moto.sqs.exceptions import InvalidParameterValue
from moto.sqs.models import Queue, SQSBackend
from moto.sqs.responses import SQSResponse

_tasks_lock = threading.Lock()
_tasks: dict[str, list[dict[str, Any]]] = {}  # source queue ARN -> its tasks, newest first
_MAX_LISTED_TASKS = 10


def install() -> None:
    SQSResponse.start_message_move_task = _start_message_move_task  # type: ignore[attr-defined]
    SQSResponse.list_message_move_tasks = _list_message_move_tasks  # type: ignore[attr-defined]


def _start_message_move_task(self: SQSResponse) -> ActionResult:
    backend = self.sqs_backend
    source_arn = self._get_param("SourceArn")
    source = _queue_by_arn(backend, source_arn)
    destination_arn = self._get_param("DestinationArn")
    destination = (
        _queue_by_arn(backend, destination_arn) if destination_arn else _redrive_source(backend, source)
    )
    started = int(unix_time_millis())
    moved = 0
    for message in source.messages:  # the visible ones, oldest first
        backend.send_message(destination.name, message.body, message_attributes=message.message_attributes)
        source._messages.remove(message)
        source.pending_messages.discard(message)
        moved += 1
    handle = base64.b64encode(
        json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode()
    ).decode()
    task = {  # no TaskHandle: SQS lists one for RUNNING tasks only
        "Status": "COMPLETED",
        "SourceArn": source_arn,
        "DestinationArn": destination.queue_arn,
        "ApproximateNumberOfMessagesMoved": moved,
        "ApproximateNumberOfMessagesToMove": moved,
        "StartedTimestamp": started,
    }
    with _tasks_lock:
        _tasks.setdefault(source_arn, []).insert(0, task)
    return ActionResult({"TaskHandle": handle})


def _list_message_move_tasks(self: SQSResponse) -> ActionResult:
    source_arn = self._get_param("SourceArn")
    _queue_by_arn(self.sqs_backend, source_arn)
    limit = self._get_param("MaxResults", 1)
    with _tasks_lock:
        results = [dict(task) for task in _tasks.get(source_arn, [])[: min(limit, _MAX_LISTED_TASKS)]]
    return ActionResult({"Results": results})


def _queue_by_arn(backend: SQSBackend, arn: str) -> Queue:
    queue = next((queue for queue in backend.queues.values() if queue.queue_arn == arn), None)
    if queue is None:
        raise InvalidParameterValue(f"Value {arn} for parameter SourceArn is invalid. Reason: no such queue.")
    return queue


def _redrive_source(backend: SQSBackend, dead_letter_queue: Queue) -> Queue:
    sources = backend.list_dead_letter_source_queues(dead_letter_queue.name)
    if len(sources) != 1:
        raise InvalidParameterValue(
            "Value for parameter DestinationArn is required: "
            f"{len(sources)} queues send their dead letters to {dead_letter_queue.name}."
        )
    return sources[0]
