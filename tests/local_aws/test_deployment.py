"""Local provisioning reads the synthesized template: what each function receives, which mappings run, and
what it refuses, naming the resource and the property."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import boto3
import pytest

from cognito_workers.catalog import PLANNER
from local_aws.deployment import NOT_DEPLOYED_LOCALLY, LocalDeployment, deploy_template, local_edits
from local_aws.pipeline import EventSourceTuning
from local_aws.server import LocalAws, start_local_aws
from local_aws.synth import stack_template
from local_aws.template import TemplateEdit, TemplateError, resources_of_type


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in resources_of_type(template, resource_type)
    }


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return stack_template()


@pytest.fixture
def fresh_aws() -> Iterator[LocalAws]:
    """A server of its own: the default template's names are taken on the session's. The session's server
    stays the one the environment points at afterwards."""
    with mock.patch.dict(os.environ), start_local_aws() as aws:
        aws.export_environment()
        yield aws


def deploy_edited(
    aws: LocalAws, template: dict[str, Any], change: Callable[[dict[str, Any]], None]
) -> LocalDeployment:
    edit = TemplateEdit(change.__name__, "the test's", change)
    return deploy_template(aws.endpoint_url, aws.region, template, stack_name="edited", edits=[edit])


def test_every_function_gets_the_template_environment_resolved_to_local_resources(
    deployment: LocalDeployment, template: dict[str, Any]
) -> None:
    # Given the template's functions
    functions = of_type(template, "AWS::Lambda::Function")
    by_name = {function.function_name: function for function in deployment.functions.values()}
    # Then the local deployment has each of them, with the same variables and timeout and memory
    assert set(by_name) == {properties["FunctionName"] for properties in functions.values()}
    for properties in functions.values():
        local = by_name[properties["FunctionName"]]
        assert local.handler == properties["Handler"]
        assert set(local.environment) == set(properties["Environment"]["Variables"])
        assert (local.timeout_seconds, local.memory_mb) == (properties["Timeout"], properties["MemorySize"])
        # And references resolve to the local resources
        assert local.environment["USER_POOL_ID"] == deployment.user_pool_id
        assert local.environment["EVENT_BUS_NAME"] == deployment.event_bus_name
        assert local.environment["QUEUE_URL"] == local.queue.url
        assert local.environment["DEAD_LETTER_QUEUE_URL"] == local.queue.dead_letter_url
    # And the settings each handler validates from them point at what exists locally
    planner = deployment.planner_settings()
    assert planner.schedule_group_name == deployment.outputs["DeletionScheduleGroupName"]
    groups = boto3.client("scheduler").list_schedule_groups()["ScheduleGroups"]
    assert planner.schedule_group_name in {group["Name"] for group in groups}
    assert planner.delete_queue_arn == deployment.queues["AdminDeleteUser"].arn


def test_the_pipeline_runs_exactly_the_template_mappings(
    deployment: LocalDeployment, template: dict[str, Any]
) -> None:
    mappings = of_type(template, "AWS::Lambda::EventSourceMapping")
    functions = of_type(template, "AWS::Lambda::Function")
    assert len(deployment.functions) == len(mappings)
    for mapping in mappings.values():
        function = functions[mapping["FunctionName"]["Ref"]]
        local = next(f for f in deployment.functions.values() if f.function_name == function["FunctionName"])
        queue_logical_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
        queue = of_type(template, "AWS::SQS::Queue")[queue_logical_id]
        assert local.queue.arn.endswith(f":{queue['QueueName']}")
        assert EventSourceTuning.of(local) == EventSourceTuning(
            batch_size=mapping["BatchSize"],
            max_batching_window_seconds=mapping["MaximumBatchingWindowInSeconds"],
            maximum_concurrency=mapping["ScalingConfig"]["MaximumConcurrency"],
            timeout_seconds=function["Timeout"],
            memory_mb=function["MemorySize"],
            reports_batch_item_failures=mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"],
        )


def test_queues_keep_the_template_redrive_and_retention(deployment: LocalDeployment, sqs: Any) -> None:
    queue = deployment.planner_queue
    attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    dead_letters = sqs.get_queue_attributes(QueueUrl=queue.dead_letter_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": queue.dead_letter_arn,
        "maxReceiveCount": deployment.worker_settings("AdminDisableUser").max_receive_count,
    }
    assert dead_letters["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    # The one local edit: failed records come back in seconds
    assert attributes["VisibilityTimeout"] == "30"
    assert deployment.edits == tuple(str(edit) for edit in local_edits(visibility_timeout_seconds=30))


def test_rules_keep_the_template_patterns_and_target_dead_letter_queues(
    deployment: LocalDeployment, template: dict[str, Any]
) -> None:
    events = boto3.client("events")
    rules = events.list_rules(EventBusName=deployment.event_bus_name, Limit=100)["Rules"]
    stack_rules = [rule for rule in rules if not rule["Name"].endswith("-outcomes")]  # the local addition
    # and the snapshot bucket's, on the default bus where S3 notifies (the one naming this deployment's)
    bucket = deployment.outputs["SnapshotBucketName"]
    stack_rules += [
        rule for rule in events.list_rules(EventBusName="default")["Rules"] if bucket in rule["EventPattern"]
    ]
    (bucket_id,) = of_type(template, "AWS::S3::Bucket")
    template_rules = of_type(template, "AWS::Events::Rule").values()
    canonical = functools.partial(json.dumps, sort_keys=True)
    assert sorted(canonical(json.loads(rule["EventPattern"])) for rule in stack_rules) == sorted(
        canonical(rule["EventPattern"]).replace(json.dumps({"Ref": bucket_id}), json.dumps(bucket))
        for rule in template_rules
    )
    for rule in stack_rules:
        (target,) = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=rule["EventBusName"])[
            "Targets"
        ]
        assert target["DeadLetterConfig"]["Arn"].endswith("-dlq")
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


def test_a_variable_removed_from_a_function_in_the_template_is_gone_locally(
    fresh_aws: LocalAws, template: dict[str, Any]
) -> None:
    # Given the template with the planner's schedule group variable taken out
    def remove(edited: dict[str, Any]) -> None:
        for _, function in resources_of_type(edited, "AWS::Lambda::Function"):
            function["Properties"]["Environment"]["Variables"].pop("SCHEDULE_GROUP_NAME", None)

    # When it is deployed locally
    deployment = deploy_edited(fresh_aws, template, remove)
    # Then the planner's local environment lacks it, and the planner fails on it as it would in Lambda
    assert "SCHEDULE_GROUP_NAME" not in deployment.functions[PLANNER.name].environment
    with pytest.raises(RuntimeError, match="SCHEDULE_GROUP_NAME: Field required"):
        deployment.planner_settings()
    # And the template itself is untouched
    assert "SCHEDULE_GROUP_NAME" in json.dumps(template)


def test_a_resource_type_without_a_local_stand_in_is_named(
    fresh_aws: LocalAws, template: dict[str, Any]
) -> None:
    def add(edited: dict[str, Any]) -> None:
        edited["Resources"]["Notifications"] = {"Type": "AWS::SNS::Subscription", "Properties": {}}

    with pytest.raises(
        TemplateError, match=r"^Notifications\.Type: AWS::SNS::Subscription has no local stand-in$"
    ):
        deploy_edited(fresh_aws, template, add)


def test_an_unresolvable_reference_is_named_with_its_property(
    fresh_aws: LocalAws, template: dict[str, Any]
) -> None:
    def break_reference(edited: dict[str, Any]) -> None:
        (_, queue), *_ = resources_of_type(edited, "AWS::SQS::Queue")
        queue["Properties"]["RedrivePolicy"] = {"deadLetterTargetArn": {"Fn::GetAtt": ["Missing", "Arn"]}}

    with pytest.raises(TemplateError, match=r"\.Properties: Fn::GetAtt Missing\.Arn: no such resource$"):
        deploy_edited(fresh_aws, template, break_reference)


def test_every_type_left_out_locally_is_in_the_template_and_says_why(template: dict[str, Any]) -> None:
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert set(NOT_DEPLOYED_LOCALLY) <= types  # no stale entry
    assert all(len(reason) > 20 for reason in NOT_DEPLOYED_LOCALLY.values())
