"""Reading a queue of the test session's local AWS empty, so that no test sees another's messages."""

from __future__ import annotations

import json
from typing import Any


def take_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message of the queue, parsed and deleted."""
    taken = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            taken.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return taken
