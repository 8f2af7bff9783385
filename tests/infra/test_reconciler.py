"""The reconciler in the template: its snapshot bucket, the rule from S3's notifications to its queue, its
environment, its role and the held-run alarm, each checked against what the reconciler's code reads, calls
and emits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from cognito_workers.catalog import RECONCILER, QuotaCategory
from cognito_workers.reconcile.function import ReconcilerSettings
from cognito_workers.reconcile.policy import ReconciliationPolicy
from infra.consumer import SERVICE_NAME
from tests.infra.conftest import Synthesized
from tests.infra.template import (
    OBSERVABILITY_VARIABLES,
    Workers,
    account_arn,
    as_list,
    flatten,
    ref_target,
    settings_from,
    statements,
)

MEGABYTE = 1024 * 1024


@pytest.fixture
def workers(synthesized: Synthesized) -> Workers:
    return Workers(synthesized)


def snapshot_bucket(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    ((bucket_id, bucket),) = synthesized.of_type("AWS::S3::Bucket").items()
    return bucket_id, bucket


def snapshot_rule(synthesized: Synthesized) -> dict[str, Any]:
    (rule,) = [
        rule["Properties"]
        for rule in synthesized.of_type("AWS::Events::Rule").values()
        if rule["Properties"]["EventPattern"].get("source") == ["aws.s3"]
    ]
    return rule


def test_the_reconciler_environment_is_every_reconciler_setting(
    synthesized: Synthesized, workers: Workers
) -> None:
    env = workers.environment(RECONCILER.name)
    aliases = {f.alias for f in ReconcilerSettings.model_fields.values() if f.alias}
    assert set(env) - OBSERVABILITY_VARIABLES == aliases
    settings = settings_from(ReconcilerSettings, env)
    knobs = synthesized.context["reconciler"]
    bucket_id, _ = snapshot_bucket(synthesized)
    assert ref_target(env["SNAPSHOT_BUCKET"]) == bucket_id
    assert settings.snapshot_prefix == knobs["snapshotPrefix"]
    assert settings.max_snapshot_bytes == knobs["maxSnapshotMegabytes"] * MEGABYTE
    assert settings.apply_snapshots is knobs["applySnapshots"]
    assert settings.policy == ReconciliationPolicy.model_validate(synthesized.context["reconciliation"])
    # Two runs may read at once (the event source's smallest maximum concurrency): each takes half the
    # UserList rate, Cognito's default or the quota override
    rate = synthesized.context["quotaOverrides"].get("UserList", QuotaCategory.USER_LIST.requests_per_second)
    assert settings.quota_scale * QuotaCategory.USER_LIST.requests_per_second * 2 == pytest.approx(rate)
    function = workers.functions[workers.by_function()[RECONCILER.name]["function"]]["Properties"]
    assert function["Timeout"] == knobs["functionTimeoutSeconds"]
    assert function["MemorySize"] == knobs["functionMemoryMb"]


def test_one_snapshot_per_invocation_and_at_most_two_at_once(workers: Workers) -> None:
    joined = workers.by_function()[RECONCILER.name]
    mapping = workers.mappings[joined["mapping"]]["Properties"]
    assert (mapping["BatchSize"], mapping.get("MaximumBatchingWindowInSeconds", 0)) == (1, 0)
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == 2
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_snapshot_bucket_is_private_encrypted_notifies_eventbridge_and_expires_its_objects(
    synthesized: Synthesized,
) -> None:
    bucket_id, bucket = snapshot_bucket(synthesized)
    properties = bucket["Properties"]
    (key_id,) = synthesized.of_type("AWS::KMS::Key")
    ((encryption),) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert ref_target(encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == key_id
    assert encryption["BucketKeyEnabled"] is True
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert properties["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert properties["LifecycleConfiguration"]["Rules"] == [
        {"ExpirationInDays": synthesized.context["reconciler"]["retentionDays"], "Status": "Enabled"}
    ]
    assert bucket["DeletionPolicy"] == "Retain"
    # No custom resource sets the notifications (CDK's eventBridgeEnabled would add one)
    assert not [r for r in synthesized.resources.values() if r["Type"].startswith("Custom::")]
    # Its policy denies every request without TLS
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if ref_target(p["Properties"]["Bucket"]) == bucket_id
    ]
    (deny,) = statements(policy)
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def s3_notification(bucket: str, key: str) -> dict[str, Any]:
    """S3's EventBridge notification of a new object (S3 user guide, "EventBridge message structure")."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-12-02T00:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 100, "etag": "d41d8cd98f00b204e9800998ecf8427e"},
            "reason": "PutObject",
        },
    }


@pytest.mark.parametrize(
    ("bucket", "key", "routed"),
    [
        ("the-bucket", "snapshots/hr-2026-12-01.csv", True),
        ("the-bucket", "elsewhere/roster.csv", True),  # reaches the function, which refuses it with a reason
        ("the-bucket", "reports/run-1.jsonl", False),  # the reconciler's own reports
        ("another-bucket", "snapshots/hr.csv", False),
    ],
)
def test_the_rule_routes_the_buckets_new_objects_but_the_reports_from_the_default_bus(
    synthesized: Synthesized, workers: Workers, bucket: str, key: str, routed: bool
) -> None:
    rule = snapshot_rule(synthesized)
    bucket_id, _ = snapshot_bucket(synthesized)
    assert "EventBusName" not in rule  # S3 notifies the account's default bus
    # The pattern, with the bucket's name for its reference, matches as EventBridge would
    pattern = json.loads(
        json.dumps(rule["EventPattern"]).replace(json.dumps({"Ref": bucket_id}), '"the-bucket"')
    )
    assert EventPattern.load(json.dumps(pattern)).matches_event(s3_notification(bucket, key)) is routed
    # To the reconciler's queue; what EventBridge cannot deliver, to its DLQ
    joined = workers.by_function()[RECONCILER.name]
    (target,) = rule["Targets"]
    assert ref_target(target["Arn"]) == joined["queue"]
    assert ref_target(target["DeadLetterConfig"]["Arn"]) == joined["dlq"]


def test_the_reconciler_role_holds_exactly_its_statements(synthesized: Synthesized, workers: Workers) -> None:
    joined = workers.by_function()[RECONCILER.name]
    role = workers.roles[joined["role"]]
    bucket_id, _ = snapshot_bucket(synthesized)
    role_statements = [
        s for policy in role["Properties"]["Policies"] for s in statements(policy["PolicyDocument"])
    ]
    key_uses = [s for s in role_statements if "kms:Decrypt" in as_list(s["Action"])]
    granted = {
        frozenset(as_list(s["Action"])): (flatten(s["Resource"]), s.get("Condition"))
        for s in role_statements
        if s not in key_uses
    }
    # Reads any object of its bucket (the snapshot, its reports), lists it (a missing report is NoSuchKey,
    # not AccessDenied), writes only under reports/
    assert granted[frozenset({"s3:GetObject"})] == (f"${{{bucket_id}.Arn}}/*", None)
    assert granted[frozenset({"s3:ListBucket"})] == (f"${{{bucket_id}.Arn}}", None)
    assert granted[frozenset({"s3:PutObject"})] == (f"${{{bucket_id}.Arn}}/reports/*", None)
    # Lists the pool, never changes it: its repairs go through the planner
    cognito = [actions for actions in granted if any(a.startswith("cognito-idp:") for a in actions)]
    assert cognito == [frozenset({"cognito-idp:ListUsers", "cognito-idp:ListUsersInGroup"})]
    # Publishes on the stack's bus only its repairs' source and the outcome source
    resource, condition = granted[frozenset({"events:PutEvents"})]
    assert resource == account_arn("events", f"event-bus/{synthesized.context['resourcePrefix']}-bus")
    assert condition == {
        "StringEquals": {
            "events:source": [RECONCILER.event_source, synthesized.context["outcomeEventSource"]]
        }
    }
    # And the key through S3 too, for the encrypted objects (beside SQS and DynamoDB, as every consumer)
    via = sorted(sorted(flatten(s["Condition"]["StringEquals"]["kms:ViaService"])) for s in key_uses)
    assert via == [
        ["dynamodb.${AWS::Region}.amazonaws.com", "sqs.${AWS::Region}.amazonaws.com"],
        ["s3.${AWS::Region}.amazonaws.com"],
    ]


def test_the_held_run_alarm_watches_the_metric_the_reconciler_counts_for_a_held_run(
    synthesized: Synthesized,
) -> None:
    # The reconciler counts each of its audit events in a metric named like it (QueueConsumer's
    # OutcomePublisher, dimensions action = Reconciler, service = the Powertools service name); the local
    # end-to-end test (tests/integration/test_reconciler_function.py) shows it emitted for a held run
    (alarm,) = [
        a["Properties"]
        for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == RECONCILER.held_detail_type
    ]
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "action": RECONCILER.name,
        "service": SERVICE_NAME,
    }
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 1)
    assert alarm["AlarmName"] == f"{synthesized.context['resourcePrefix']}-reconciliation-held"
    (topic,) = synthesized.of_type("AWS::SNS::Topic")
    assert [ref_target(action) for action in alarm["AlarmActions"]] == [topic]
