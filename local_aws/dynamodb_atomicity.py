"""DynamoDB's conditional writes are atomic; moto's are not when requests arrive at once.

moto checks a ConditionExpression and then writes, with no lock between the two: two concurrent PutItem
calls with `attribute_not_exists(id)` on the same key can both succeed (measured: 1 round in 200 with 8
racers). The idempotency records rely on that atomicity, as the service guarantees it, so the local
server serves DynamoDB requests one at a time (`install()`, idempotent).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_one_at_a_time = threading.Lock()


def install() -> None:
    call_action = DynamoHandler.call_action
    if getattr(call_action, "serialized", False):
        return

    @functools.wraps(call_action)
    def serialized_call_action(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        with _one_at_a_time:
            return call_action(self, *args, **kwargs)

    serialized_call_action.serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = serialized_call_action  # type: ignore[method-assign]
