"""The shared quota budget (functions/cognito_workers/budget.py) over the local server: several functions of
one category at once stay under its rate in every second, lock-outs book ahead of the callers waiting for
the next second, and a budget that cannot be booked stops the worker before Cognito, retried."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from cognito_workers.budget import LOCK_OUT_HORIZON_SECONDS, Booking, QuotaBudget
from cognito_workers.catalog import QuotaCategory
from cognito_workers.errors import RetryableFailure
from local_aws.deployment import LocalDeployment, provision
from local_aws.lambda_sqs import configured_worker, deliver_batch
from local_aws.pipeline import LocalPipeline, action_function
from local_aws.server import LocalAws
from tests.conftest import Pipeline

PREFIX = "budget-tests"
# The local server's quotas and the budget's rates at a fifth of Cognito's: UserUpdate at 5 calls/s.
SCALE = 0.2
USER_UPDATE_RATE = 5
# Three functions of UserUpdate, two instances each: together far faster than 5 calls/s unpaced.
LOADED = ("AdminAddUserToGroup", "AdminUpdateUserAttributes", "AdminDisableUser")
USERS = 8


@pytest.fixture(scope="session")
def paced(local_aws: LocalAws) -> LocalDeployment:
    return provision(
        local_aws.endpoint_url,
        local_aws.region,
        prefix=PREFIX,
        quota_scale=SCALE,
        visibility_timeout_seconds=5,
    )


@pytest.fixture
def quotas_enforced(local_aws: LocalAws) -> Iterator[LocalAws]:
    local_aws.enforce_quotas(True, SCALE)
    try:
        yield local_aws
    finally:
        local_aws.enforce_quotas(False)


class Clock:
    """A wall clock that moves only when a caller sleeps: bookings at chosen instants."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    # Half-way through a second of its own, far from the seconds other tests book on the same table
    return Clock(4_000_000_000 + uuid.uuid4().int % 1_000_000 * 100 + 0.5)


def budget_at(paced: LocalDeployment, clock: Clock, rate: int) -> QuotaBudget:
    settings = paced.worker_settings("AdminDisableUser")
    return QuotaBudget(
        boto3.client("dynamodb"),
        table_name=settings.quota_budget_table_name,
        category=QuotaCategory.USER_UPDATE,
        rate=rate,
        clock=clock,
        sleep=clock.sleep,
    )


def test_the_template_gives_each_worker_the_budget_table_and_its_categorys_scaled_rate(
    paced: LocalDeployment,
) -> None:
    for action in LOADED:
        assert paced.worker_settings(action).quota_requests_per_second == USER_UPDATE_RATE
    assert paced.worker_settings("AdminCreateUser").quota_requests_per_second == 10


def test_several_functions_of_a_category_are_never_throttled_and_keep_to_its_rate(
    paced: LocalDeployment, quotas_enforced: LocalAws, cognito: Any, sqs: Any
) -> None:
    # Given users, then commands of three UserUpdate actions waiting on their queues at once
    usernames = [f"paced-{uuid.uuid4().hex[:8]}" for _ in range(USERS)]
    quotas_enforced.enforce_quotas(False)  # setting up is not the workers' traffic
    for username in usernames:
        cognito.admin_create_user(UserPoolId=paced.user_pool_id, Username=username, MessageAction="SUPPRESS")
    quotas_enforced.enforce_quotas(True, SCALE)
    params = {
        "AdminAddUserToGroup": {"GroupName": "staff"},
        "AdminUpdateUserAttributes": {"UserAttributes": [{"Name": "custom:department", "Value": "legal"}]},
        "AdminDisableUser": {},
    }
    for action in LOADED:
        for username in usernames:
            body = {"action": action, "params": {"Username": username, **params[action]}}
            sqs.send_message(QueueUrl=paced.queues[action].url, MessageBody=json.dumps(body))

    # When their functions drain them together, each at the concurrency the template gives it
    LocalPipeline([action_function(paced, action) for action in LOADED]).drain(timeout_s=180)

    # Then every command reached Cognito, none was throttled, and no second of the server's clock let through
    # more than the category's rate, give or take the one call a busy machine delays past its second's end
    # (the budget spreads a second's calls over it, booked on the caller's clock)
    report = quotas_enforced.quota_report()
    assert report.allowed["UserUpdate"] == len(LOADED) * USERS
    assert report.throttled["UserUpdate"] == 0
    assert report.busiest_second("UserUpdate") <= USER_UPDATE_RATE + 1
    for username in usernames:
        assert cognito.admin_get_user(UserPoolId=paced.user_pool_id, Username=username)["Enabled"] is False


def test_a_lock_out_gets_in_before_the_callers_waiting_for_the_next_second(
    paced: LocalDeployment, clock: Clock
) -> None:
    budget = budget_at(paced, clock, rate=2)
    deadline = clock.now + 20
    # Given a second whose two places are taken
    first = budget.book(lock_out=False, deadline=deadline)
    second = budget.book(lock_out=False, deadline=deadline)
    assert (first, second) == (Booking(int(clock.now), 1, 2), Booking(int(clock.now), 2, 2))
    # and a caller that finds it full
    assert budget.book(lock_out=False, deadline=deadline) is None
    # When a lock-out comes, it books the next second's first place at once
    lock_out = budget.book(lock_out=True, deadline=deadline)
    assert lock_out == Booking(int(clock.now) + 1, 1, 2)
    # Then the waiting caller, who tries again when the next second begins, comes after it
    waiting = budget.wait_for_turn(lock_out=False, deadline=deadline)
    assert waiting == Booking(int(lock_out.second), 2, 2)
    assert lock_out.starts_at < waiting.starts_at
    # and each call starts at its place in the second, spread over it (less its last 100 ms)
    assert clock.now == pytest.approx(waiting.starts_at)
    assert waiting.starts_at == pytest.approx(lock_out.second + 0.45)


class LateClock(Clock):
    """A busy host's clock: its first sleep ends a whole second late."""

    def __init__(self, now: float) -> None:
        super().__init__(now)
        self.late = True

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds + (1.0 if self.late else 0.0))
        self.late = False


def test_a_place_its_caller_wakes_too_late_for_is_given_up_and_another_booked(
    paced: LocalDeployment, clock: Clock
) -> None:
    late = LateClock(int(clock.now) + 0.1)  # early in a second of its own
    budget = budget_at(paced, late, rate=2)
    # Given the current second's first place taken, so that the caller's place starts half-way through it
    start = int(late.now)
    assert budget.book(lock_out=False, deadline=late.now + 20) == Booking(start, 1, 2)
    # When the caller sleeps until its place and wakes a second late
    booking = budget.wait_for_turn(lock_out=False, deadline=late.now + 20)
    # Then it did not call in the second it had booked, but in a place of the second it woke in
    assert booking.second == start + 1
    assert booking.second <= late.now < booking.second + 1


def test_lock_outs_book_no_further_ahead_than_the_horizon_and_the_deadline(
    paced: LocalDeployment, clock: Clock
) -> None:
    budget = budget_at(paced, clock, rate=1)
    start = int(clock.now)
    booked = [
        budget.book(lock_out=True, deadline=clock.now + 60) for _ in range(LOCK_OUT_HORIZON_SECONDS + 2)
    ]
    assert [b.second for b in booked if b] == list(range(start, start + LOCK_OUT_HORIZON_SECONDS + 1))
    assert booked[-1] is None
    # A caller whose deadline comes before the next free second gives up, retryable
    with pytest.raises(RetryableFailure, match="QuotaBudgetExhausted"):
        budget.wait_for_turn(lock_out=False, deadline=clock.now + 3)


def test_a_missing_budget_table_fails_the_first_record_loudly_before_cognito_and_it_is_retried(
    pipeline: Pipeline, deployment: LocalDeployment, cognito: Any, sqs: Any, worker_logs: Any
) -> None:
    # Given a user, and a disable worker whose budget table does not exist
    username = f"unpaced-{uuid.uuid4().hex[:8]}"
    cognito.admin_create_user(UserPoolId=deployment.user_pool_id, Username=username, MessageAction="SUPPRESS")
    worker = configured_worker(deployment, "AdminDisableUser")
    worker.consumer.settings = deployment.worker_settings("AdminDisableUser").model_copy(
        update={"quota_budget_table_name": "no-such-budget"}
    )
    queue = deployment.queues["AdminDisableUser"]
    pipeline.send("AdminDisableUser", {"action": "AdminDisableUser", "params": {"Username": username}})

    # When its first record is delivered
    report = deliver_batch(
        worker.handler,
        sqs,
        queue_url=queue.url,
        queue_arn=queue.arn,
        function_name=deployment.functions["AdminDisableUser"].function_name,
    )

    # Then the record is handed back to be retried, Cognito was not called, and the log says why as an error
    assert report.received == 1
    assert len(report.failed_message_ids) == 1
    assert cognito.admin_get_user(UserPoolId=deployment.user_pool_id, Username=username)["Enabled"] is True
    errors = [json.loads(line) for line in worker_logs.getvalue().splitlines()]
    (unavailable,) = [
        line for line in errors if line["message"] == "quota budget unavailable: Cognito not called"
    ]
    assert unavailable["level"] == "ERROR"
    assert unavailable["error_code"] == "ResourceNotFoundException"
    # and once the budget is there again, the retried record applies
    pipeline.in_flight["AdminDisableUser"] = list(report.failed_receipt_handles)
    pipeline.release_in_flight("AdminDisableUser")
    assert pipeline.deliver("AdminDisableUser").failed_message_ids == ()
    assert cognito.admin_get_user(UserPoolId=deployment.user_pool_id, Username=username)["Enabled"] is False
