"""The context knobs: cdk.json holds every one, docs/deploy.md describes every one, bad values fail synth."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import DeploymentConfig
from tests.infra.conftest import CDK_JSON, REPO_ROOT, cdk_json_context

KNOBS = [field.alias for field in DeploymentConfig.model_fields.values() if field.alias]


class FakeNode:
    """Stands in for a construct node: what DeploymentConfig.from_context reads."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context

    def try_get_context(self, key: str) -> Any:
        return self.context.get(key)


def config_with(**overrides: Any) -> DeploymentConfig:
    return DeploymentConfig.from_context(FakeNode({**cdk_json_context(), **overrides}))


def test_cdk_json_holds_every_knob_and_keeps_synth_offline() -> None:
    cdk_json = json.loads(CDK_JSON.read_text())
    assert set(KNOBS) <= set(cdk_json["context"])
    assert cdk_json["notices"] is False
    assert cdk_json["cli-telemetry"] is False
    config_with()  # the defaults are valid


def test_docs_describe_every_knob() -> None:
    docs = (REPO_ROOT / "docs" / "deploy.md").read_text()
    assert [knob for knob in KNOBS if f"`{knob}`" not in docs] == []


def test_a_missing_knob_is_named() -> None:
    context = cdk_json_context()
    del context["maxReceiveCount"]
    with pytest.raises(ValueError, match="maxReceiveCount"):
        DeploymentConfig.from_context(FakeNode(context))


def test_cli_strings_are_read_as_the_values_they_spell() -> None:
    # Given values as `cdk synth -c name=value` passes them: strings
    config = config_with(
        quotaOverrides='{"UserCreation": 100}',
        commandSources='["hr.system", "cognito.lifecycle.planner"]',
        maxReceiveCount="7",
        userPoolId="us-east-1_AbC123",
        traceAwsCalls="true",
    )
    assert config.quota_overrides == {"UserCreation": 100}
    assert config.command_sources == ["hr.system", "cognito.lifecycle.planner"]
    assert config.max_receive_count == 7
    assert config.trace_aws_calls is True
    assert not config.sandbox


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"quotaOverrides": {"UserUpdate": 50}}, "fixed at 25"),
        ({"quotaOverrides": {"UserUpdate": 0}}, r"quotaOverrides.UserUpdate: 0 is out of range, 1 to 25 "),
        ({"quotaOverrides": {"UserCreation": 1001}}, r"quotaOverrides.UserCreation: 1001 .* 1 to 1000 "),
        ({"quotaOverrides": {"UserCreations": 100}}, "unknown quota category"),
        ({"eventPublishers": ["someone"]}, "neither a 12-digit account id"),
        ({"userPoolId": "not a pool"}, "userPoolId"),
        ({"logRetentionDays": 10}, "logRetentionDays"),
        ({"deadlineMarginMs": 20000}, "deadlineMarginMs"),
        ({"actionOverrides": {"AdminMakeCoffee": {}}}, "unknown action"),
        ({"actionOverrides": {"AdminCreateUser": {"batchSize": 11}}}, "batchSize"),
        ({"outcomeEventSource": "hr.system"}, "must not be a command source"),
        ({"alarmEmail": "ops"}, "alarmEmail"),
        ({"resourcePrefix": "Cognito_Lifecycle"}, "resourcePrefix"),
        ({"commandSources": ["hr.system"]}, "must include 'cognito.lifecycle.planner'"),
        ({"hrEventSources": []}, "hrEventSources"),
        ({"hrEventSources": ["cognito.workers"]}, "hrEventSources must not include"),
        ({"operatorEventSource": "cognito.workers"}, "operatorEventSource must be a source of its own"),
        ({"operatorEventSource": "hr.system"}, "operatorEventSource must be a source of its own"),
        ({"leaverThreshold": 0}, "leaverThreshold"),
        ({"leaverWindowMinutes": 0}, "leaverWindowMinutes"),
        ({"plannerMaxConcurrency": 1}, "plannerMaxConcurrency"),
        ({"traceAwsCalls": "yes"}, r"traceAwsCalls\n.*must be true or false, not 'yes'"),
        ({"traceAwsCalls": 1}, r"traceAwsCalls\n.*must be true or false, not 1"),
        (
            {"reconciliation": {**cdk_json_context()["reconciliation"], "unmanagedUsernamePatterns": ["("]}},
            "is no regular expression",
        ),
        (
            {"reconciliation": {**cdk_json_context()["reconciliation"], "maxDeprovisionShare": 5}},
            "maxDeprovision",
        ),
        ({"actionOverrides": {"LifecyclePlanner": {"functionTimeoutSeconds": 2}}}, "functionTimeoutSeconds"),
        (
            {"reconciler": {**cdk_json_context()["reconciler"], "maxSnapshotMegabytes": 0}},
            r"reconciler.maxSnapshotMegabytes\n.*greater than or equal to 1",
        ),
        (
            {"reconciler": {**cdk_json_context()["reconciler"], "functionTimeoutSeconds": 901}},
            r"reconciler.functionTimeoutSeconds\n.*less than or equal to 900",
        ),
        (
            {"reconciler": {**cdk_json_context()["reconciler"], "snapshotPrefix": "reports/"}},
            "where the reconciler writes its reports",
        ),
        (
            {"reconciler": {**cdk_json_context()["reconciler"], "snapshotPrefix": "snapshots"}},
            r"reconciler.snapshotPrefix\n.*should match pattern",
        ),
        (
            {"reconciler": {**cdk_json_context()["reconciler"], "applySnapshots": "maybe"}},
            r"reconciler.applySnapshots\n.*must be true or false",
        ),
    ],
)
def test_a_bad_knob_fails_with_its_reason(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        config_with(**overrides)


def test_action_overrides_tune_one_action() -> None:
    config = config_with(actionOverrides={"AdminCreateUser": {"functionTimeoutSeconds": 60}})
    assert config.tuning("AdminCreateUser").function_timeout_seconds == 60
    assert config.tuning("AdminDeleteUser").function_timeout_seconds == config.function_timeout_seconds


def test_the_lock_out_path_gathers_no_batch_unless_overridden() -> None:
    config = config_with(actionOverrides={"AdminUserGlobalSignOut": {"maxBatchingWindowSeconds": 2}})
    assert config.tuning("AdminDisableUser").max_batching_window_seconds == 0
    assert config.tuning("LifecyclePlannerLockOut").max_batching_window_seconds == 0
    assert config.tuning("AdminUserGlobalSignOut").max_batching_window_seconds == 2
    assert config.tuning("AdminCreateUser").max_batching_window_seconds == config.max_batching_window_seconds


def test_action_overrides_tune_the_planner_too() -> None:
    config = config_with(actionOverrides={"LifecyclePlanner": {"batchSize": 1}})
    assert config.tuning("LifecyclePlanner").batch_size == 1
    assert config.tuning("AdminCreateUser").batch_size == config.batch_size
