"""One request budget per Cognito quota category, shared by every function whose action is in it.

Cognito's request-rate quotas are account-wide per category; each function paces itself against the
category's budget, not against its own share. The budget is a DynamoDB table of per-second slots: the item
`<category>#<epoch second>` counts in `used` the calls booked in that second, and a booking is one
conditional `UpdateItem ADD used :1` that holds only while `used < rate` (or the item is new). Its answer,
the new `used`, is the call's position n in its second: the call goes at `second + (n - 1) * spread / rate`
(spread: the second less its last CALL_MARGIN_SECONDS), so a second's calls are spread over it instead of
bunched at its start (Cognito's limiter sees a steady rate). A second with less than CALL_MARGIN_SECONDS
left is no longer offered (the booking goes to the next): a call reaches Cognito within the second it was
counted in, unless its booking's own round trip took longer than that margin.

Lock-out actions (ActionSpec.lock_out) are served first when the budget is short: they may book up to
LOCK_OUT_HORIZON_SECONDS ahead, while every other action may only book the current second. A waiting
non-lock-out caller tries again at the next second, where the lock-outs booked earlier already hold their
places: a lock-out always gets in before the queued traffic of the following second.

A caller waits within its invocation (a record is never handed back to its queue for lack of budget: that
would spend its receive count and, in time, dead-letter it), at most until its deadline (the invocation's
remaining time less the deadline margin); then RetryableFailure("QuotaBudgetExhausted"). A budget that
cannot be read (a missing table, AccessDenied) fails the call before Cognito is reached, as a
RetryableFailure("QuotaBudgetUnavailable") logged as an error: never an unpaced call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from cognito_workers.catalog import QuotaCategory
from cognito_workers.errors import RetryableFailure, error_code
from cognito_workers.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PARTITION_KEY = "slot"
TTL_ATTRIBUTE = "expiration"
# How far ahead a lock-out may book: 50 leavers' two lock-out calls at UserUpdate's 25/s take 4 s.
LOCK_OUT_HORIZON_SECONDS = 10
# A call starts at least this long before its second ends, so that the request reaches Cognito within the
# second it was counted in: room for the network and for a busy host (20 ms, tried first, let a loaded
# test machine carry calls into the next second). The price when the budget is not short: a call that
# comes in a second's last 100 ms waits for the next one (10% of calls, 50 ms each: 5 ms per call on
# average).
CALL_MARGIN_SECONDS = 0.1
# Slots are of no use once their second has passed; TTL removes them (in its own time) after an hour.
SLOT_LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class Booking:
    """A call's place in the budget: the `position`-th (from 1) of its second's `rate` calls."""

    second: int
    position: int
    rate: int

    @property
    def starts_at(self) -> float:
        return self.second + (self.position - 1) * (1 - CALL_MARGIN_SECONDS) / self.rate


class QuotaBudget:
    """The budget of one category at `rate` calls per second, in the table `table_name`. `clock` and
    `sleep` are the wall clock's (epoch seconds: every function of the account reads the same seconds)."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        *,
        table_name: str,
        category: QuotaCategory,
        rate: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 1:
            raise ValueError("rate: at least 1 call per second")
        self._dynamodb = dynamodb
        self._table_name = table_name
        self.category = category
        self.rate = rate
        self._clock = clock
        self._sleep = sleep

    def wait_for_turn(self, *, lock_out: bool, deadline: float) -> Booking:
        """Book a place for one call and sleep until it comes; at `deadline` (epoch seconds) give up. A
        place its caller wakes too late for (within its second's last CALL_MARGIN_SECONDS, or after: a
        busy host's late wake-up) is given up and another booked: its call could be counted in the next
        second, beyond that second's places."""
        while True:
            while (booking := self.book(lock_out=lock_out, deadline=deadline)) is None:
                now = self._clock()
                next_second = math.floor(now + CALL_MARGIN_SECONDS) + 1
                if next_second >= deadline:
                    raise RetryableFailure(
                        "QuotaBudgetExhausted",
                        f"no place in the {self.category.quota_name} budget ({self.rate}/s) before the"
                        " invocation's deadline",
                    )
                self._sleep(next_second - now)
            wait = booking.starts_at - self._clock()
            if wait > 0:
                self._sleep(wait)
            if self._clock() < booking.second + 1 - CALL_MARGIN_SECONDS:
                return booking

    def book(self, *, lock_out: bool, deadline: float) -> Booking | None:
        """The first free place from the current second on: the current second only, or for a lock-out up
        to LOCK_OUT_HORIZON_SECONDS ahead (never a second the deadline would not reach). None if all full."""
        # A second about to end is no longer offered: its call would start too late.
        current = math.floor(self._clock() + CALL_MARGIN_SECONDS)
        last = current + LOCK_OUT_HORIZON_SECONDS if lock_out else current
        last = min(last, math.floor(deadline - CALL_MARGIN_SECONDS))
        for second in range(current, last + 1):
            position = self._take(second)
            if position is not None:
                return Booking(second=second, position=position, rate=self.rate)
        return None

    def _take(self, second: int) -> int | None:
        """One place in `second`: its position, or None when the second is full."""
        try:
            answer = self._dynamodb.update_item(
                TableName=self._table_name,
                Key={PARTITION_KEY: {"S": f"{self.category.quota_name}#{second}"}},
                UpdateExpression=f"ADD used :one SET {TTL_ATTRIBUTE} = :expiration",
                ConditionExpression="attribute_not_exists(used) OR used < :rate",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":rate": {"N": str(self.rate)},
                    ":expiration": {"N": str(second + SLOT_LIFETIME_SECONDS)},
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            code = error_code(error)
            if code == "ConditionalCheckFailedException":
                return None
            logger.error(
                "quota budget unavailable: Cognito not called",
                extra={"error_code": code, "budget_table": self._table_name},
            )
            raise RetryableFailure("QuotaBudgetUnavailable", f"{code}: {error}") from error
        return int(answer["Attributes"]["used"]["N"])
