"""Requests the local server answered, per AWS operation: what a run costs in requests, which the emulator
benchmark divides by the commands run (docs/benchmarks.md).

The JSON protocols name the operation in the X-Amz-Target header ("DynamoDB_20120810.GetItem"); a REST
request (EventBridge Scheduler) is counted by its method and the first segment of its path.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from local_aws.quotas import WsgiApp


def operation_of(environ: dict[str, Any]) -> str:
    target: str = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1]
    first_segment = environ.get("PATH_INFO", "/").strip("/").split("/", 1)[0]
    return f"{environ['REQUEST_METHOD']} /{first_segment}"


class RequestCounter:
    """WSGI middleware: counts each request by its operation, then passes it on."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        operation = operation_of(environ)
        with self._lock:
            self._counts[operation] += 1
        return self._app(environ, start_response)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
