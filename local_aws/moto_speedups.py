"""Make moto's server faster where it spends time on nothing the product depends on.

Each patch keeps moto's behaviour and only removes repeated work; `install()` is idempotent. Measured with
py-spy on the lifecycle pipeline (docs/benchmarks.md once it exists; README "The local AWS").
"""

from __future__ import annotations

import functools

import jsonpath_ng.ext
from moto.core.utils import unix_time
from moto.sqs.models import Message, SQSBackend


def install() -> None:
    _memoize_jsonpath()
    _read_retention_period_directly()


def _memoize_jsonpath() -> None:
    """moto builds a fresh JSONPath parser (PLY tables and all) for each of eight paths every time
    EventBridge delivers an event to a target: half the cost of PutEvents. Parsed paths are immutable,
    so one parse per distinct path serves every delivery."""
    parse = jsonpath_ng.ext.parse  # type: ignore[attr-defined]  # re-exported by jsonpath_ng, untyped
    if not hasattr(parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=512)(parse)  # type: ignore[attr-defined]


def _read_retention_period_directly() -> None:
    """ReceiveMessage checks every returned message's retention period by computing all of the queue's
    attributes (about 100 ms per receive at a depth of 300); the period alone is one attribute."""

    def is_message_valid_based_on_retention_period(
        self: SQSBackend, queue_name: str, message: Message
    ) -> bool:
        queue = self.get_queue(queue_name)
        retention_period = int(queue.message_retention_period)  # type: ignore[attr-defined]  # set from attributes
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]

    setattr(  # noqa: B010  # replacing moto's method; a plain assignment does not type-check
        SQSBackend, "is_message_valid_based_on_retention_period", is_message_valid_based_on_retention_period
    )
