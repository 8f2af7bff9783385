"""Cognito's rate quotas on the local server: the token bucket alone, then the server over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cognito_workers.catalog import QuotaCategory
from cognito_workers.pacing import TokenBucket
from local_aws.quotas import QuotaScale, scaled_rates
from local_aws.server import LocalAws, LocalToolingError

USER_UPDATE_RATE = QuotaCategory.USER_UPDATE.requests_per_second


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_holds_one_second_of_requests_then_refuses() -> None:
    bucket = TokenBucket(5, FakeClock())

    taken = [bucket.take() for _ in range(7)]

    assert taken == [True] * 5 + [False] * 2


def test_bucket_refills_at_its_rate_and_never_above_one_second() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, clock)
    while bucket.take():
        pass

    clock.now += 0.2  # one token's worth at 5 per second
    after_one_token = [bucket.take(), bucket.take()]
    clock.now += 60
    after_a_minute = sum(bucket.take() for _ in range(10))

    assert after_one_token == [True, False]
    assert after_a_minute == 5


@pytest.fixture
def enforced(local_aws: LocalAws) -> Iterator[LocalAws]:
    local_aws.enforce_quotas()
    yield local_aws
    local_aws.enforce_quotas(False)


@pytest.fixture(scope="module")
def cognito_without_retries(local_aws: LocalAws) -> Any:
    return boto3.client("cognito-idp", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


@pytest.fixture(scope="module")
def user(cognito_without_retries: Any) -> tuple[str, str]:
    pool_id = cognito_without_retries.create_user_pool(PoolName="quotas")["UserPool"]["Id"]
    cognito_without_retries.admin_create_user(UserPoolId=pool_id, Username="ann", MessageAction="SUPPRESS")
    return pool_id, "ann"


def _disable_repeatedly(cognito: Any, user: tuple[str, str], calls: int) -> list[str]:
    pool_id, username = user
    answers = []
    for _ in range(calls):
        try:
            cognito.admin_disable_user(UserPoolId=pool_id, Username=username)
            answers.append("ok")
        except ClientError as error:
            answers.append(
                f"{error.response['ResponseMetadata']['HTTPStatusCode']} {error.response['Error']['Code']}"
            )
    return answers


def test_calls_over_the_category_rate_are_throttled_as_cognito_does(
    enforced: LocalAws, cognito_without_retries: Any, user: tuple[str, str]
) -> None:
    # Twice the one-second burst, sent as fast as one client can: over the rate unless the calls took
    # longer than a second between them.
    answers = _disable_repeatedly(cognito_without_retries, user, 2 * USER_UPDATE_RATE)

    assert set(answers) == {"ok", "400 TooManyRequestsException"}
    assert answers[:USER_UPDATE_RATE] == ["ok"] * USER_UPDATE_RATE
    report = enforced.quota_report()
    assert report.enforced
    assert report.allowed["UserUpdate"] == answers.count("ok")
    assert report.throttled["UserUpdate"] == answers.count("400 TooManyRequestsException")
    assert report.scale == 1.0
    # and what was let through is counted per wall-clock second too
    assert sum(report.allowed_per_second["UserUpdate"].values()) == answers.count("ok")


def test_each_category_has_a_bucket_of_its_own_and_set_up_calls_are_not_metered(
    enforced: LocalAws, cognito_without_retries: Any, user: tuple[str, str]
) -> None:
    _disable_repeatedly(cognito_without_retries, user, 2 * USER_UPDATE_RATE)
    pool_id, username = user

    cognito_without_retries.admin_get_user(UserPoolId=pool_id, Username=username)  # UserRead
    cognito_without_retries.list_users(UserPoolId=pool_id)  # UserList: the reconciler's read
    cognito_without_retries.list_groups(UserPoolId=pool_id)  # set-up, not metered

    report = enforced.quota_report()
    assert report.allowed["UserRead"] == 1
    assert report.allowed["UserList"] == 1
    assert set(report.allowed) == {"UserUpdate", "UserRead", "UserList"}


def test_throttling_answer_matches_botocore_error_shape(enforced: LocalAws, user: tuple[str, str]) -> None:
    """The raw answer, as the service model describes TooManyRequestsException."""
    cognito = boto3.client("cognito-idp")
    shape = cognito.meta.service_model.shape_for("TooManyRequestsException")
    body = json.dumps({"UserPoolId": user[0], "Username": user[1]}).encode()
    signature = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cognito-idp/aws4_request"
    status, answer = 0, {}
    for _ in range(2 * USER_UPDATE_RATE):
        request = urllib.request.Request(
            enforced.endpoint_url,
            data=body,
            headers={
                "X-Amz-Target": "AWSCognitoIdentityProviderService.AdminDisableUser",
                "Content-Type": "application/x-amz-json-1.1",
                "Authorization": signature,
            },
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError as error:
            status, answer = error.code, json.load(error)
            break

    assert status == 400
    assert answer["__type"] == "TooManyRequestsException"
    assert set(answer) - {"__type"} <= set(shape.members)
    assert "UserUpdate" in answer["message"]


def test_switched_off_nothing_is_throttled(
    local_aws: LocalAws, cognito_without_retries: Any, user: tuple[str, str]
) -> None:
    local_aws.enforce_quotas(False)

    answers = _disable_repeatedly(cognito_without_retries, user, 2 * USER_UPDATE_RATE)

    assert answers == ["ok"] * 2 * USER_UPDATE_RATE
    assert local_aws.quota_report().enforced is False


def test_scaled_quotas_bind_at_that_share_of_the_rate(
    local_aws: LocalAws, cognito_without_retries: Any, user: tuple[str, str]
) -> None:
    local_aws.enforce_quotas(scale=0.2)
    try:
        answers = _disable_repeatedly(cognito_without_retries, user, USER_UPDATE_RATE)
        report = local_aws.quota_report()
    finally:
        local_aws.enforce_quotas(False)

    # A fifth of the one-second burst passes at once, then the rest is over the scaled rate.
    assert answers[: USER_UPDATE_RATE // 5] == ["ok"] * (USER_UPDATE_RATE // 5)
    assert answers.count("ok") < USER_UPDATE_RATE // 2
    assert report.throttled["UserUpdate"] == answers.count("400 TooManyRequestsException")
    assert report.scale == 0.2


def test_a_category_scaled_on_its_own_binds_at_its_own_rate(
    local_aws: LocalAws, cognito_without_retries: Any, user: tuple[str, str]
) -> None:
    local_aws.enforce_quotas(scale=QuotaScale(0.2, {"UserUpdate": 1.0}))
    try:
        answers = _disable_repeatedly(cognito_without_retries, user, USER_UPDATE_RATE)
        report = local_aws.quota_report()
    finally:
        local_aws.enforce_quotas(False)

    # UserUpdate's whole one-second burst passes, where the other categories' fifth would stop it at 5
    assert answers.count("ok") > USER_UPDATE_RATE // 2
    assert report.throttled["UserUpdate"] == answers.count("400 TooManyRequestsException")


@pytest.mark.parametrize("scale", [0, 1.5])
def test_a_scale_outside_0_to_1_is_refused(local_aws: LocalAws, scale: float) -> None:
    with pytest.raises(LocalToolingError) as refused:
        local_aws.enforce_quotas(scale=scale)

    assert refused.value.code == "InvalidScale"
    assert "scale" in str(refused.value)
    assert local_aws.quota_report().enforced is False


def test_scaled_rates_are_the_budgets_quota_overrides_at_the_local_scale() -> None:
    assert scaled_rates(0.2) == {
        "UserCreation": 10,
        "UserAuthentication": 24,
        "UserAccountRecovery": 6,
        "UserRead": 24,
        "UserUpdate": 5,
        "UserResourceRead": 10,
        "UserResourceUpdate": 5,
        "UserPoolResourceUpdate": 3,
        "UserList": 6,
    }
    # a category at a scale of its own
    assert scaled_rates(QuotaScale(0.2, {"UserUpdate": 1.0, "UserCreation": 0.1})) == {
        **scaled_rates(0.2),
        "UserUpdate": 25,
        "UserCreation": 5,
    }
    # the budget books whole calls: a scale that leaves a fraction is refused, naming the categories
    with pytest.raises(ValueError, match="UserPoolResourceUpdate, UserResourceUpdate, UserUpdate"):
        scaled_rates(0.1)
    with pytest.raises(ValueError, match="no quota category UserUpdates"):
        QuotaScale(0.2, {"UserUpdates": 1.0})
    with pytest.raises(ValueError, match="above 0, at most 1"):
        QuotaScale(0.2, {"UserUpdate": 2})
