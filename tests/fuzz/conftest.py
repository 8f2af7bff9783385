"""Fuzzing: the hypothesis profiles, a count of the cases run, and a deployment of the fuzz tests' own (so
that draining its queues touches nothing the other tests use) with its workers and planner.

`HYPOTHESIS_PROFILE=chaos` runs the full fuzzing (at least CHAOS_MINIMUM_CASES cases, checked at the end of
the session: tests/fuzz/cases.py); without it the small profile runs, as part of the normal test run.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings

from cognito_workers.lifecycle.planner import LifecyclePlanner
from cognito_workers.worker import ActionWorker
from local_aws.deployment import LocalDeployment, provision
from local_aws.lambda_sqs import configured_planner, environment_clients
from local_aws.server import LocalAws
from tests.conftest import Pipeline
from tests.fuzz.cases import CASES, PROFILE

# HTTP to the local AWS takes what it takes: no per-example deadline.
settings.register_profile("fuzz", max_examples=150, deadline=None, print_blob=True)
settings.register_profile("chaos", max_examples=4600, deadline=None, print_blob=True)
settings.load_profile(PROFILE)

# The full-handler tests run this fraction of the profile's examples: each is a batch over HTTP.
HANDLER_EXAMPLES = max(8, settings().max_examples // 10)


@pytest.fixture(scope="session")
def cases() -> Counter[str]:
    """Count each case (one hypothesis example) by kind; the session's summary reports them."""
    return CASES


@pytest.fixture(scope="session")
def fuzz_deployment(local_aws: LocalAws) -> LocalDeployment:
    return provision(local_aws.endpoint_url, local_aws.region, prefix="fuzz-tests")


@pytest.fixture(scope="session")
def fuzz_pipeline(fuzz_deployment: LocalDeployment, sqs: Any) -> Pipeline:
    return Pipeline(deployment=fuzz_deployment, sqs=sqs)


def record_calls(client: Any, service: str, calls: list[dict[str, Any]]) -> None:
    """Append the params of every call the client makes to the service to `calls`."""

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append({"operation": model.name, **params})

    client.meta.events.register(f"before-parameter-build.{service}", record)


@pytest.fixture(scope="session")
def cognito_calls() -> list[dict[str, Any]]:
    """The Cognito calls of every worker of `workers`."""
    return []


@pytest.fixture(scope="session")
def workers(
    fuzz_deployment: LocalDeployment, cognito_calls: list[dict[str, Any]]
) -> Callable[[str], ActionWorker]:
    """The action's worker (the class every handler module instantiates), one per action for the session."""

    @functools.cache
    def worker(action: str) -> ActionWorker:
        made = ActionWorker(action)
        made.consumer.clients = environment_clients()
        made.consumer.settings = fuzz_deployment.worker_settings(action)
        record_calls(made.consumer.clients.cognito_idp, "cognito-idp", cognito_calls)
        return made

    return worker


@pytest.fixture(scope="session")
def dispatched() -> list[dict[str, Any]]:
    """The PutEvents calls of `planner`."""
    return []


@pytest.fixture(scope="session")
def planner(fuzz_deployment: LocalDeployment, dispatched: list[dict[str, Any]]) -> LifecyclePlanner:
    made = configured_planner(fuzz_deployment, LifecyclePlanner())
    record_calls(made.consumer.clients.events, "events", dispatched)
    return made


@pytest.fixture(scope="session")
def existing_user(fuzz_deployment: LocalDeployment, cognito: Any) -> str:
    """A user for the valid commands of the fuzzed batches to act on; its name looks like an injection."""
    username = f"${{jndi:ldap://x/{uuid.uuid4().hex[:8]}}}"
    cognito.admin_create_user(
        UserPoolId=fuzz_deployment.user_pool_id, Username=username, MessageAction="SUPPRESS"
    )
    return username
