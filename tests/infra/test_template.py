"""Properties that hold across every resource of the synthesized template, whatever its ids or counts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from cognito_workers import budget
from cognito_workers.catalog import ACTIONS, ACTIONS_BY_NAME, PLANNER, RECONCILER
from cognito_workers.observability import TRACE_AWS_CALLS
from cognito_workers.settings import WorkerSettings
from infra.concurrency import MAX_MAXIMUM_CONCURRENCY, MIN_MAXIMUM_CONCURRENCY
from tests.infra.conftest import IMPORTED_POOL_ID, Synthesized
from tests.infra.template import (
    OBSERVABILITY_VARIABLES,
    XRAY_ACTIONS,
    Workers,
    as_list,
    mentions,
    ref_target,
    statements,
    tables_keyed_by,
)

# The one worker that reads the pool beside its action: Cognito's "Existing attribute already has name"
# does not say whether the attribute is of the type asked.
CONFIRMING_READS = {"AddCustomAttributes": ["cognito-idp:DescribeUserPool"]}


@pytest.fixture
def workers(synthesized: Synthesized) -> Workers:
    return Workers(synthesized)


def test_the_functions_are_exactly_the_catalogs_actions_and_the_planner(
    synthesized: Synthesized, workers: Workers
) -> None:
    # Given the synthesized template and the catalog
    prefix = synthesized.context["resourcePrefix"]
    # When the functions are read by their handler
    by_handler = {f["Properties"]["Handler"]: f["Properties"] for f in workers.functions.values()}
    # Then there is one function per action, two for the planner (its lock-out lane) and the reconciler,
    # each named after it, and no other
    handlers = {spec.name: spec.handler for spec in ACTIONS} | PLANNER.handlers
    handlers[RECONCILER.name] = RECONCILER.handler
    assert len(by_handler) == len(workers.functions)
    assert set(by_handler) == set(handlers.values())
    for name, handler in handlers.items():
        assert by_handler[handler]["FunctionName"] == f"{prefix}-{name}"
    # and every one of them is fed by its own queue, named like it (catalog.ResourceNames)
    assert set(workers.by_function()) == set(handlers)
    for name, joined in workers.by_function().items():
        assert workers.queues[joined["queue"]]["Properties"]["QueueName"] == f"{prefix}-{name}"
        assert workers.queues[joined["dlq"]]["Properties"]["QueueName"] == f"{prefix}-{name}-dlq"


def test_every_function_runs_the_pinned_runtime_layer_and_tracing(
    synthesized: Synthesized, workers: Workers
) -> None:
    version = synthesized.context["powertoolsLayerVersion"]
    log_groups = synthesized.of_type("AWS::Logs::LogGroup")
    for function in workers.functions.values():
        props = function["Properties"]
        assert props["Runtime"] in ("python3.12", "python3.13")
        assert props["Architectures"] == ["arm64"]
        (layer,) = props["Layers"]
        layer_arn = "".join(part for part in layer["Fn::Join"][1] if isinstance(part, str))
        runtime = props["Runtime"].replace(".", "")
        assert layer_arn.endswith(
            f":017000801446:layer:AWSLambdaPowertoolsPythonV3-{runtime}-arm64:{version}"
        )
        # Active tracing always; the X-Ray SDK's subsegments of AWS calls only where traceAwsCalls asks
        assert props["TracingConfig"] == {"Mode": "Active"}
        trace_aws_calls = "true" if synthesized.context["traceAwsCalls"] else "false"
        assert props["Environment"]["Variables"][TRACE_AWS_CALLS] == trace_aws_calls
        log_group = log_groups[ref_target(props["LoggingConfig"]["LogGroup"]) or ""]
        assert log_group["Properties"]["RetentionInDays"] == synthesized.context["logRetentionDays"]
        assert props["Code"]["S3Key"].endswith(".zip")


def test_the_asset_is_the_functions_tree_without_caches(synthesized: Synthesized, workers: Workers) -> None:
    # Given the asset every function ships
    (function, *_) = workers.functions.values()
    asset = synthesized.outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    assert asset.is_dir()
    files = [path.relative_to(asset).as_posix() for path in asset.rglob("*") if path.is_file()]
    # Then it holds every handler module and no cache or compiled file
    for module in [*(spec.handler_module for spec in ACTIONS), PLANNER.handler_module]:
        assert f"{module.replace('.', '/')}.py" in files
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    assert not [name for name in files if name.startswith(("aws_cdk", "infra/", "tests/"))]


def test_every_function_environment_is_what_worker_settings_requires(
    synthesized: Synthesized, workers: Workers
) -> None:
    settings_names = {f.alias for f in WorkerSettings.model_fields.values() if f.alias}
    required = {f.alias for f in WorkerSettings.model_fields.values() if f.alias and f.is_required()}
    for action, joined in workers.by_action().items():
        env = workers.functions[joined["function"]]["Properties"]["Environment"]["Variables"]
        # Every required setting is there, and nothing but settings and observability's variables
        assert required <= set(env)
        assert set(env) <= settings_names | OBSERVABILITY_VARIABLES
        # The worker shortens visibility on its own queue, dead-letters into that queue's DLQ, and counts
        # deliveries as the queue does
        assert ref_target(env["QUEUE_URL"]) == joined["queue"], action
        assert ref_target(env["DEAD_LETTER_QUEUE_URL"]) == joined["dlq"], action
        assert int(env["MAX_RECEIVE_COUNT"]) == joined["max_receive_count"]
        assert (
            int(env["DEADLINE_MARGIN_MS"])
            < workers.functions[joined["function"]]["Properties"]["Timeout"] * 1000
        )
        assert env["OUTCOME_EVENT_SOURCE"] == synthesized.context["outcomeEventSource"]
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "CognitoLifecycle"
        if synthesized.name == "production":
            assert env["USER_POOL_ID"] == IMPORTED_POOL_ID


def test_every_queue_has_a_dead_letter_queue_or_is_one(synthesized: Synthesized, workers: Workers) -> None:
    dead_letter_targets = {
        ref_target(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in workers.queues.values()
        if "RedrivePolicy" in q.get("Properties", {})
    }
    for queue_id, queue in workers.queues.items():
        props = queue["Properties"]
        if "RedrivePolicy" in props:
            assert props["RedrivePolicy"]["maxReceiveCount"] == synthesized.context["maxReceiveCount"]
            assert ref_target(props["RedrivePolicy"]["deadLetterTargetArn"]) in workers.queues
        else:
            assert queue_id in dead_letter_targets, f"{queue_id} neither has a DLQ nor is one"
            assert props["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_every_queue_is_kms_encrypted_and_tls_only(synthesized: Synthesized, workers: Workers) -> None:
    keys = synthesized.of_type("AWS::KMS::Key")
    tls_only: set[str] = set()
    for policy in synthesized.of_type("AWS::SQS::QueuePolicy").values():
        denies_plain_http = any(
            s["Effect"] == "Deny"
            and s["Action"] == "sqs:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements(policy["Properties"]["PolicyDocument"])
        )
        if denies_plain_http:
            tls_only.update(ref_target(q) or "" for q in policy["Properties"]["Queues"])
    for queue_id, queue in workers.queues.items():
        assert ref_target(queue["Properties"]["KmsMasterKeyId"]) in keys, f"{queue_id} is not KMS-encrypted"
        assert queue_id in tls_only, f"{queue_id} accepts plain HTTP"
    assert all(key["Properties"]["EnableKeyRotation"] for key in keys.values())


def test_every_mapping_reports_batch_item_failures_and_paces_its_function(
    synthesized: Synthesized, workers: Workers
) -> None:
    for mapping in workers.mappings.values():
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert (
            MIN_MAXIMUM_CONCURRENCY <= props["ScalingConfig"]["MaximumConcurrency"] <= MAX_MAXIMUM_CONCURRENCY
        )
        assert 1 <= props["BatchSize"] <= 10
    # The planner's is the fixed value of the context (it calls no Cognito quota of its own)
    planner_mapping = workers.mappings[workers.planner["mapping"]]["Properties"]
    assert (
        planner_mapping["ScalingConfig"]["MaximumConcurrency"] == synthesized.context["plannerMaxConcurrency"]
    )


def test_visibility_timeout_is_at_least_six_function_timeouts(workers: Workers) -> None:
    for action, joined in workers.by_function().items():
        timeout = workers.functions[joined["function"]]["Properties"]["Timeout"]
        visibility = workers.queues[joined["queue"]]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * timeout, action


def test_action_overrides_reach_their_function_only(synthesized: Synthesized, workers: Workers) -> None:
    # (the reconciler has knobs of its own: tests/infra/test_reconciler.py)
    overrides = synthesized.context["actionOverrides"]
    for name, joined in workers.by_function().items():
        if name == RECONCILER.name:
            continue
        props = workers.functions[joined["function"]]["Properties"]
        tuning = overrides.get(name, {})
        assert props["Timeout"] == tuning.get(
            "functionTimeoutSeconds", synthesized.context["functionTimeoutSeconds"]
        )
        assert props["MemorySize"] == tuning.get("functionMemoryMb", synthesized.context["functionMemoryMb"])
        batch_size = workers.mappings[joined["mapping"]]["Properties"]["BatchSize"]
        assert batch_size == tuning.get("batchSize", synthesized.context["batchSize"])


def test_the_lock_out_path_gathers_no_batch_and_every_other_consumer_the_configured_window(
    synthesized: Synthesized, workers: Workers
) -> None:
    lock_out_path = {PLANNER.lock_out_lane_name, *PLANNER.lock_out_actions}
    windows = {
        name: workers.mappings[joined["mapping"]]["Properties"].get("MaximumBatchingWindowInSeconds", 0)
        for name, joined in workers.by_function().items()
        if name != RECONCILER.name  # one snapshot per invocation: tests/infra/test_reconciler.py
    }
    assert {name for name, window in windows.items() if window == 0} == lock_out_path
    assert {window for name, window in windows.items() if name not in lock_out_path} == {
        synthesized.context["maxBatchingWindowSeconds"]
    }


def test_every_worker_books_its_calls_in_its_categorys_budget_at_the_configured_rate(
    synthesized: Synthesized, workers: Workers
) -> None:
    # Given the quotas (with the context's overrides) and the assumed Cognito calls per instance
    context = synthesized.context
    calls_per_instance = 1000 / context["assumedRecordMillis"]
    (budget_table,) = tables_keyed_by(synthesized, budget.PARTITION_KEY)
    for action, joined in workers.by_action().items():
        category = ACTIONS_BY_NAME[action].quota
        rate = context["quotaOverrides"].get(category.quota_name, category.requests_per_second)
        environment = workers.functions[joined["function"]]["Properties"]["Environment"]["Variables"]
        # Then its environment names the one budget table and its category's rate
        assert ref_target(environment["QUOTA_BUDGET_TABLE_NAME"]) == budget_table, action
        assert environment["QUOTA_REQUESTS_PER_SECOND"] == str(rate), action
        # and its event source lets it alone reach that rate, within Lambda's bounds (the budget paces)
        concurrency = workers.mappings[joined["mapping"]]["Properties"]["ScalingConfig"]["MaximumConcurrency"]
        assert MIN_MAXIMUM_CONCURRENCY <= concurrency <= MAX_MAXIMUM_CONCURRENCY, action
        assert concurrency * calls_per_instance >= rate or concurrency == MAX_MAXIMUM_CONCURRENCY, action


def test_every_role_holds_exactly_its_actions_on_the_pool_and_only_its_own_resources(
    synthesized: Synthesized, workers: Workers
) -> None:
    pool_ids = set(synthesized.of_type("AWS::Cognito::UserPool"))
    tables = tables_keyed_by(synthesized, "id")  # the idempotency table; the planner's is not theirs
    budget_tables = tables_keyed_by(synthesized, budget.PARTITION_KEY)
    keys = set(synthesized.of_type("AWS::KMS::Key"))
    bus_name = f"{synthesized.context['resourcePrefix']}-bus"
    assert not synthesized.of_type("AWS::IAM::Policy"), "policies are inline, written per role"
    assert not synthesized.of_type("AWS::IAM::ManagedPolicy")
    joined_by_role = {j["role"]: (action, j) for action, j in workers.by_action().items()}
    # Every role belongs to one worker, to one of the planner's functions, to the reconciler, or is the
    # scheduler's (tests/infra/test_planner.py, test_reconciler.py)
    others_by_function = {
        workers.by_function()[name]["role"] for name in [*PLANNER.handlers, RECONCILER.name]
    }
    others = {*others_by_function, *workers.roles_assumed_by("scheduler.amazonaws.com")}
    assert len(others) == 4
    assert set(joined_by_role) | others == set(workers.roles)
    for role_id, role in workers.roles.items():
        if role_id in others:
            continue
        action, joined = joined_by_role[role_id]
        props = role["Properties"]
        assert "ManagedPolicyArns" not in props
        assert statements(props["AssumeRolePolicyDocument"])[0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }
        granted = [s for policy in props["Policies"] for s in statements(policy["PolicyDocument"])]
        own_log_group = ref_target(
            workers.functions[joined["function"]]["Properties"]["LoggingConfig"]["LogGroup"]
        )
        own = {joined["queue"], joined["dlq"], own_log_group, *tables, *budget_tables, *keys, *pool_ids}
        assert all(s["Effect"] == "Allow" for s in granted)
        # Exactly its own cognito-idp action (and AddCustomAttributes the read that confirms "already
        # exists"), in one statement, on the pool's ARN
        cognito = [(a, s) for s in granted for a in as_list(s["Action"]) if a.startswith("cognito-idp:")]
        assert [a for a, _ in cognito] == [f"cognito-idp:{action}", *CONFIRMING_READS.get(action, [])]
        (cognito_statement,) = {id(s): s for _, s in cognito}.values()
        if synthesized.name == "production":
            assert mentions(cognito_statement["Resource"], f":userpool/{IMPORTED_POOL_ID}")
        else:
            assert ref_target(cognito_statement["Resource"]) in pool_ids
        for statement in granted:
            actions = as_list(statement["Action"])
            resources = as_list(statement["Resource"])
            # No wildcard action; a wildcard resource only for X-Ray, which has no resource-level permission
            assert not [a for a in actions if "*" in a], statement
            if "*" in resources:
                assert set(actions) <= XRAY_ACTIONS, statement
                assert resources == ["*"], statement
                continue
            for resource in resources:
                target = ref_target(resource)
                if target is not None:
                    assert target in own, f"{action}: {target}"
                else:
                    assert mentions(resource, f":event-bus/{bus_name}") or mentions(resource, ":userpool/"), (
                        resource
                    )
        # Its queue is consumed and its DLQ is written, by this role only
        queue_actions = {
            a for s in granted for a in as_list(s["Action"]) if ref_target(s["Resource"]) == joined["queue"]
        }
        assert queue_actions == {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
        }
        dlq_actions = {
            a for s in granted for a in as_list(s["Action"]) if ref_target(s["Resource"]) == joined["dlq"]
        }
        assert dlq_actions == {"sqs:SendMessage"}
        table_actions = {
            a for s in granted for a in as_list(s["Action"]) if ref_target(s["Resource"]) in tables
        }
        assert table_actions == {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        }
        # and on the quota budget, it only books: UpdateItem
        budget_actions = {
            a for s in granted for a in as_list(s["Action"]) if ref_target(s["Resource"]) in budget_tables
        }
        assert budget_actions == {"dynamodb:UpdateItem"}
        (put_events,) = [s for s in granted if "events:PutEvents" in as_list(s["Action"])]
        assert put_events["Condition"] == {
            "StringEquals": {"events:source": synthesized.context["outcomeEventSource"]}
        }
        # The X-Ray wildcard is acknowledged on this very role, with a reason
        acknowledged = {r["id"]: r["reason"] for r in role["Metadata"]["cdk_nag"]["rules_to_suppress"]}
        assert acknowledged.get("AwsSolutions::AwsSolutions-IAM5[Resource::*]")


def test_every_rule_delivers_to_a_functions_queue_and_every_action_has_one(
    synthesized: Synthesized, workers: Workers
) -> None:
    buses = synthesized.of_type("AWS::Events::EventBus")
    rules_by_queue: dict[str | None, list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for rule in synthesized.of_type("AWS::Events::Rule").values():
        props = rule["Properties"]
        # On the stack's bus; the reconciler's on the default bus, where S3 sends its notifications
        assert ref_target(props.get("EventBusName")) in buses or props["EventPattern"]["source"] == ["aws.s3"]
        (target,) = props["Targets"]
        rules_by_queue[ref_target(target["Arn"])].append((props, target))
    # Every rule targets a function's queue: an action's, the planner's (its three inputs), the reconciler's
    assert set(rules_by_queue) == {joined["queue"] for joined in workers.by_function().values()}
    assert len(rules_by_queue[workers.planner["queue"]]) == 3
    for name, joined in workers.by_function().items():
        for _, target in rules_by_queue[joined["queue"]]:
            assert ref_target(target["DeadLetterConfig"]["Arn"]) == joined["dlq"], name
            assert target["RetryPolicy"] == {
                "MaximumEventAgeInSeconds": synthesized.context["ruleTargetMaxEventAgeSeconds"],
                "MaximumRetryAttempts": synthesized.context["ruleTargetRetryAttempts"],
            }
            assert "RoleArn" not in target, "SQS targets authorize by queue policy; a role breaks delivery"
    for action, joined in workers.by_action().items():
        ((props, target),) = rules_by_queue[joined["queue"]]
        assert props["EventPattern"] == {
            "source": synthesized.context["commandSources"],
            "detail-type": [action],
        }


def test_queue_policies_let_eventbridge_send_only_from_their_own_rule(
    synthesized: Synthesized, workers: Workers
) -> None:
    rules = synthesized.of_type("AWS::Events::Rule")
    for policy in synthesized.of_type("AWS::SQS::QueuePolicy").values():
        (queue_id,) = [ref_target(q) for q in policy["Properties"]["Queues"]]
        for statement in statements(policy["Properties"]["PolicyDocument"]):
            if statement["Effect"] != "Allow":
                continue
            assert statement["Principal"] == {"Service": "events.amazonaws.com"}
            assert statement["Action"] == "sqs:SendMessage"
            rule_id = ref_target(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
            (target,) = rules[rule_id or ""]["Properties"]["Targets"]
            assert queue_id in {ref_target(target["Arn"]), ref_target(target["DeadLetterConfig"]["Arn"])}


def test_the_bus_lets_only_the_configured_publishers_put_events(
    synthesized: Synthesized, workers: Workers
) -> None:
    (bus,) = synthesized.of_type("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == f"{synthesized.context['resourcePrefix']}-bus"
    policy = statements(bus["Properties"]["Policy"])
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    (deny,) = [s for s in policy if s["Effect"] == "Deny"]
    assert allow["Action"] == deny["Action"] == "events:PutEvents"
    assert deny["Principal"] == {"AWS": "*"}
    exempt_arns = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    # The workers publish their outcomes and the planner its commands and audit events; they are the only
    # principals beyond the configured ones
    function_roles = {joined["role"] for joined in workers.by_function().values()}
    assert {ref_target(a) for a in exempt_arns if ref_target(a)} == function_roles
    publishers = synthesized.context["eventPublishers"]
    for publisher in publishers:
        assert mentions(allow["Principal"], publisher)
        assert mentions(deny["Condition"], publisher)
    if not publishers:
        assert deny["Condition"]["StringNotEquals"] == {"aws:PrincipalAccount": [{"Ref": "AWS::AccountId"}]}


def test_the_bus_archives_commands_for_the_configured_retention(synthesized: Synthesized) -> None:
    (archive,) = synthesized.of_type("AWS::Events::Archive").values()
    props = archive["Properties"]
    assert props["RetentionDays"] == synthesized.context["archiveRetentionDays"]
    # The commands and the HR events (the reconciler's repairs among them), each source once
    sources = props["EventPattern"]["source"]
    assert len(sources) == len(set(sources))
    assert set(sources) == {
        *synthesized.context["commandSources"],
        *synthesized.context["hrEventSources"],
        RECONCILER.event_source,
    }
    assert ref_target(props["SourceArn"]) in synthesized.of_type("AWS::Events::EventBus")


@pytest.mark.parametrize("key", ["id", "pk", budget.PARTITION_KEY])
def test_the_tables_have_their_key_with_ttl_pitr_and_kms(synthesized: Synthesized, key: str) -> None:
    # Given the idempotency table ("id", Powertools' key), the planner's lifecycle table ("pk", store.py)
    # and the quota budget ("slot", budget.py)
    (table_id,) = tables_keyed_by(synthesized, key)
    props = synthesized.of_type("AWS::DynamoDB::Table")[table_id]["Properties"]
    assert props["AttributeDefinitions"] == [{"AttributeName": key, "AttributeType": "S"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": budget.TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert ref_target(props["SSESpecification"]["KMSMasterKeyId"]) in synthesized.of_type("AWS::KMS::Key")
    assert len(synthesized.of_type("AWS::DynamoDB::Table")) == 3


def test_every_dead_letter_queue_and_function_is_alarmed_to_the_encrypted_topic(
    synthesized: Synthesized, workers: Workers
) -> None:
    # (the planner's hold alarm, on its own metric, is checked in tests/infra/test_planner.py)
    (topic_id, topic), *_ = synthesized.of_type("AWS::SNS::Topic").items()
    assert ref_target(topic["Properties"]["KmsMasterKeyId"]) in synthesized.of_type("AWS::KMS::Key")
    watched: dict[str, set[str]] = defaultdict(set)
    for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        assert [ref_target(a) for a in props["AlarmActions"]] == [topic_id]
        assert props["AlarmName"].startswith(f"{synthesized.context['resourcePrefix']}-")
        for dimension in props["Dimensions"]:
            watched[ref_target(dimension["Value"]) or ""].add(props["MetricName"])
    for name, joined in workers.by_function().items():
        assert watched[joined["dlq"]] == {"ApproximateNumberOfMessagesVisible"}, name
        assert watched[joined["function"]] == {"Errors", "Throttles"}, name
    subscriptions = synthesized.of_type("AWS::SNS::Subscription")
    email = synthesized.context["alarmEmail"]
    assert [s["Properties"]["Endpoint"] for s in subscriptions.values()] == ([email] if email else [])


def test_the_sandbox_pool_is_created_only_when_no_pool_is_given(synthesized: Synthesized) -> None:
    pools = synthesized.of_type("AWS::Cognito::UserPool")
    if synthesized.name == "production":
        # An imported pool: nothing created, and a deployment outside the pool's Region is refused
        assert not pools
        assert not synthesized.of_type("AWS::Cognito::UserPoolGroup")
        region_rules = [r for r in synthesized.template["Rules"].values() if mentions(r, "eu-west-1")]
        assert len(region_rules) == 1
        return
    (pool,) = pools.values()
    props = pool["Properties"]
    assert props["DeviceConfiguration"] == {
        "ChallengeRequiredOnNewDevice": False,
        "DeviceOnlyRememberedOnUserPrompt": False,
    }
    custom = {a["Name"] for a in props["Schema"]}
    # The joiner stores the person's employeeId on the user (custom:employeeId), beside the sandbox's own.
    assert custom == {"employeeId", *synthesized.context["sandboxCustomAttributes"]}
    groups = {
        g["Properties"]["GroupName"] for g in synthesized.of_type("AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == set(synthesized.context["sandboxGroups"])
    (client,) = synthesized.of_type("AWS::Cognito::UserPoolClient").values()
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" in client["Properties"]["ExplicitAuthFlows"]
