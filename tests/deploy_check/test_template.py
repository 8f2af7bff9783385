"""deploy-check's edits to the template copy, and what it reads from the template."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cognito_workers.catalog import ACTIONS
from deploy_check.template import (
    COGNITO_ENDPOINT_VARIABLE,
    LayerVersion,
    TemplateProblem,
    bootstrap_version_parameter,
    cognito_stand_in_edits,
    read_template,
    referenced_layers,
    unknown_resource_edits,
)
from local_aws.template import edited as edited_copy

LIST_DEVICES = next(spec for spec in ACTIONS if spec.name == "AdminListDevices")
LAYER = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":lambda:",
            {"Ref": "AWS::Region"},
            ":017000801446:layer:Tools:27",
        ],
    ]
}


def _template() -> dict[str, Any]:
    return {
        "Parameters": {"BootstrapVersion": {"Type": "String", "Default": "/cdk-bootstrap/q/version"}},
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "bus"}},
            "Archive": {
                "Type": "AWS::Events::Archive",
                "Properties": {"SourceArn": {"Fn::GetAtt": ["Bus", "Arn"]}},
            },
            "ListDevices": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Handler": LIST_DEVICES.handler,
                    "Environment": {"Variables": {"USER_POOL_ID": "p"}},
                    "Layers": [LAYER],
                },
            },
            "Other": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "x.handler", "Layers": [LAYER]},
            },
        },
    }


def test_an_archive_is_removed_with_its_reason_and_the_original_is_untouched() -> None:
    # Given a template with an AWS::Events::Archive
    template = _template()
    original = copy.deepcopy(template)

    # When its edits are planned and applied to a copy
    edits = unknown_resource_edits(template)
    edited = edited_copy(template, edits)

    # Then one edit removes the archive, saying why, and only the copy changed
    assert [edit.description for edit in edits] == ["removed Archive (AWS::Events::Archive)"]
    assert "unknown to MiniStack 1.5.33" in str(edits[0])
    assert "Archive" not in edited["Resources"]
    assert set(edited["Resources"]) == set(original["Resources"]) - {"Archive"}
    assert template == original


def test_a_resource_others_refer_to_is_not_removed() -> None:
    # Given an archive that another resource depends on
    template = _template()
    template["Resources"]["Other"]["DependsOn"] = "Archive"

    # When the edits are applied, then the removal refuses, naming the referrer
    with pytest.raises(TemplateProblem, match="Archive: cannot be removed, Other refer to it"):
        edited_copy(template, unknown_resource_edits(template))


def test_the_stand_in_edit_points_only_that_actions_function_at_the_stand_in() -> None:
    # Given the template and a stand-in for AdminListDevices
    template = _template()

    # When the stand-in edit is applied
    edits = cognito_stand_in_edits(template, {"AdminListDevices"}, "http://127.0.0.1:9")
    edited = edited_copy(template, edits)

    # Then that function alone gets the Cognito endpoint variable, its other variables kept
    variables = edited["Resources"]["ListDevices"]["Properties"]["Environment"]["Variables"]
    assert variables == {"USER_POOL_ID": "p", COGNITO_ENDPOINT_VARIABLE: "http://127.0.0.1:9"}
    assert "Environment" not in edited["Resources"]["Other"]["Properties"]
    assert "has no AdminListDevices" in str(edits[0])


def test_a_stand_in_for_an_action_without_a_function_is_refused() -> None:
    template = _template()
    del template["Resources"]["ListDevices"]

    with pytest.raises(TemplateProblem, match="no AWS::Lambda::Function has the Handler of AdminListDevices"):
        cognito_stand_in_edits(template, {"AdminListDevices"}, "http://127.0.0.1:9")


def test_layer_references_resolve_to_one_version_per_distinct_arn() -> None:
    layers = referenced_layers(_template(), region="eu-west-1", account="000000000000")

    assert layers == {LayerVersion("eu-west-1", "017000801446", "Tools", 27)}
    assert next(iter(layers)).arn == "arn:aws:lambda:eu-west-1:017000801446:layer:Tools:27"


def test_a_layer_reference_that_cannot_be_resolved_names_the_function() -> None:
    template = _template()
    template["Resources"]["Other"]["Properties"]["Layers"] = [{"Fn::ImportValue": "layer"}]

    with pytest.raises(TemplateProblem, match=r"Other\.Layers: .*Fn::ImportValue"):
        referenced_layers(template, region="eu-west-1", account="000000000000")


def test_the_bootstrap_version_parameter_is_read_when_the_template_checks_it() -> None:
    template = _template()
    assert bootstrap_version_parameter(template) == "/cdk-bootstrap/q/version"
    del template["Parameters"]
    assert bootstrap_version_parameter(template) is None


def test_a_missing_template_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(TemplateProblem, match=r"no such file \(run `make synth` first\)"):
        read_template(tmp_path / "Stack.template.json")
    (tmp_path / "Stack.template.json").write_text(json.dumps(_template()))
    assert read_template(tmp_path / "Stack.template.json") == _template()
