"""Pacing calls under a request rate: a token bucket, used by the local AWS to enforce Cognito's quotas and by
the reconciler to stay under the quota of its reads."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second, at most `rate` held (a one-second burst). Not thread-safe by itself."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._clock = clock
        self._tokens = rate
        self._refilled_at = clock()

    @property
    def rate(self) -> float:
        return self._rate

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._rate, self._tokens + (now - self._refilled_at) * self._rate)
        self._refilled_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Take a token, sleeping until one is there."""
        while not self.take():
            sleep((1 - self._tokens) / self._rate)
