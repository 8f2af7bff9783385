"""cdk-nag and cfn-lint on the synthesized app: what `make synth` and `make lint-infra` enforce, in pytest."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cfnlint.api import lint_file

from cognito_workers.catalog import PLANNER, RECONCILER
from tests.infra.conftest import REPO_ROOT, Synthesized, cdk_json_context

# The schedules of the planner's deletion group: named per leaver at run time (cdk-nag's spelling).
SCHEDULES_WILDCARD = (
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:"
    f"schedule/{cdk_json_context()['resourcePrefix']}-deletions/*]"
)
# Every acknowledgement the stack makes, by rule and the resource type it may sit on.
EXPECTED_ACKNOWLEDGEMENTS = {
    "AwsSolutions::AwsSolutions-IAM5[Resource::*]": "AWS::IAM::Role",  # X-Ray needs Resource *
    SCHEDULES_WILDCARD: "AWS::IAM::Role",  # the planner role only
    "AwsSolutions::AwsSolutions-L1": "AWS::Lambda::Function",  # runtime chosen for the Powertools layer
    "AwsSolutions::AwsSolutions-COG2": "AWS::Cognito::UserPool",  # sandbox pool only
    "AwsSolutions::AwsSolutions-COG8": "AWS::Cognito::UserPool",  # sandbox pool only
    "AwsSolutions::AwsSolutions-S1": "AWS::S3::Bucket",  # the snapshot bucket: no server access logs
}
# The snapshot bucket's objects, named at run time: the reconciler's role only (the bucket's logical id).
SNAPSHOT_OBJECTS_WILDCARD = re.compile(
    r"^AwsSolutions::AwsSolutions-IAM5\[Resource::<(\w+)\.Arn>/(\*|reports/\*)\]$"
)


def expected_resource_type(rule_id: str) -> str | None:
    if SNAPSHOT_OBJECTS_WILDCARD.match(rule_id):
        return "AWS::IAM::Role"
    return EXPECTED_ACKNOWLEDGEMENTS.get(rule_id)


def acknowledgements(synthesized: Synthesized) -> list[tuple[str, str, dict[str, Any]]]:
    """(logical id, resource type, {id, reason}) for every cdk-nag acknowledgement in the template."""
    return [
        (logical_id, resource["Type"], rule)
        for logical_id, resource in synthesized.resources.items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]


def test_cdk_nag_finds_nothing_unacknowledged(synthesized: Synthesized) -> None:
    # Given the app synthesized with the AwsSolutions pack as a validation plugin
    # Then synth succeeded, and no plugin reported a violation
    assert synthesized.synth_error is None, synthesized.synth_error
    violations = [
        violation
        for plugin in (synthesized.report or {}).get("pluginReports", [])
        for violation in plugin.get("violations", [])
    ]
    assert violations == []


def test_every_acknowledgement_sits_on_its_resource_with_a_reason(synthesized: Synthesized) -> None:
    found = acknowledgements(synthesized)
    assert found, "the stack acknowledges its X-Ray and runtime findings"
    for logical_id, resource_type, rule in found:
        assert expected_resource_type(rule["id"]) == resource_type, (logical_id, rule["id"])
        assert len(rule["reason"]) >= 40, f"{logical_id}: {rule['id']} needs a real reason"
    # The Cognito acknowledgements concern the sandbox pool only: an imported pool needs none
    if synthesized.name == "production":
        assert not [rule for _, _, rule in found if "COG" in rule["id"]]
    # The schedules' wildcard sits on the roles of the planner's functions (either may publish a transition's
    # deletion schedule), and on no other
    planner_roles = sorted(
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in synthesized.of_type("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] in {PLANNER.handler, PLANNER.lock_out_lane_handler}
    )
    assert len(planner_roles) == 2
    wildcards = sorted(logical_id for logical_id, _, rule in found if rule["id"] == SCHEDULES_WILDCARD)
    assert wildcards == planner_roles
    # The snapshot objects' wildcards sit on the reconciler's role, and name the snapshot bucket
    (reconciler_role,) = [
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in synthesized.of_type("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == RECONCILER.handler
    ]
    (bucket,) = synthesized.of_type("AWS::S3::Bucket")
    snapshot_wildcards = [
        (logical_id, match.group(1))
        for logical_id, _, rule in found
        if (match := SNAPSHOT_OBJECTS_WILDCARD.match(rule["id"]))
    ]
    assert snapshot_wildcards == [(reconciler_role, bucket)] * 2


def test_every_acknowledgement_answers_a_real_finding_on_that_resource(synthesized: Synthesized) -> None:
    # Given cdk-nag's report of the findings the acknowledgements suppressed
    assert synthesized.report is not None
    suppressed = [
        (violation, construct)
        for plugin in synthesized.report["pluginReports"]
        for violation in plugin.get("suppressedViolations", [])
        for construct in violation["violatingConstructs"]
    ]
    # Then each was acknowledged on the very resource that has it, with the reason given there
    for violation, construct in suppressed:
        assert violation["acknowledgedAt"] == construct["constructPath"], violation["ruleName"]
        assert violation["reason"]
    # and no acknowledgement in the template is left without a finding to answer
    answered = {(v["acknowledgedId"], c["constructPath"]) for v, c in suppressed}
    paths = {
        logical_id: resource["Metadata"]["aws:cdk:path"]
        for logical_id, resource in synthesized.resources.items()
        if "aws:cdk:path" in resource.get("Metadata", {})
    }
    for logical_id, _, rule in acknowledgements(synthesized):
        assert (rule["id"], paths[logical_id]) in answered, (logical_id, rule["id"])


def _makefile_ignored_checks() -> set[str]:
    makefile = (REPO_ROOT / "Makefile").read_text()
    match = re.search(r"^CFN_LINT_IGNORE\s*:=\s*(.*)$", makefile, re.MULTILINE)
    assert match, "the Makefile names the cfn-lint checks it ignores"
    return set(match.group(1).split())


def test_cfn_lint_finds_nothing_beyond_the_justified_ignore(synthesized: Synthesized) -> None:
    # Given the synthesized template, linted offline as `make lint-infra` does
    matches = lint_file(Path(synthesized.template_path))
    # Then the only findings are the ones the Makefile ignores, and each is what its justification says:
    # a function's DependsOn its own role, already ordered by the GetAtt in its Role property
    ignored = _makefile_ignored_checks()
    assert ignored == {"W3005"}
    unexpected = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id not in ignored]
    assert unexpected == []
    functions = synthesized.of_type("AWS::Lambda::Function")
    for match in matches:
        _, function_id, key, _ = match.path
        role_id = functions[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        assert key == "DependsOn"
        assert functions[function_id]["DependsOn"] == [role_id]
