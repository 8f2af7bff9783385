"""What deploy-check reads from the synthesized template, and the edits it makes to a copy before MiniStack
deploys it: each edit named, with its reason, and printed before the deployment."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cognito_workers.catalog import ACTIONS
from deploy_check import DeployCheckProblem
from local_aws.template import Physical, Resolver, TemplateEdit, TemplateError

Template = dict[str, Any]

MINISTACK = "MiniStack 1.5.33"
# Resource types the emulator does not know: CreateStack fails on them.
UNKNOWN_RESOURCE_TYPES = {
    "AWS::Events::Archive": (
        f"AWS::Events::Archive is unknown to {MINISTACK}; the archive only keeps commands for replay, no "
        "check reads it"
    ),
}
# botocore's service-specific endpoint variable: it wins over AWS_ENDPOINT_URL for Cognito's calls alone.
COGNITO_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"


class TemplateProblem(DeployCheckProblem):
    """The template is not what deploy-check can deploy; the message names the resource and property."""


def read_template(path: Path) -> Template:
    if not path.is_file():
        raise TemplateProblem(f"{path}: no such file (run `make synth` first)")
    template: Template = json.loads(path.read_text())
    return template


def unknown_resource_edits(template: Template) -> list[TemplateEdit]:
    """One edit per resource whose type MiniStack does not know: the resource is removed."""
    return [
        TemplateEdit(
            f"removed {logical_id} ({resource['Type']})",
            UNKNOWN_RESOURCE_TYPES[resource["Type"]],
            _removal(logical_id),
        )
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in UNKNOWN_RESOURCE_TYPES
    ]


def _removal(logical_id: str) -> Callable[[Template], None]:
    def remove(template: Template) -> None:
        referrers = [
            other for other, resource in template["Resources"].items() if _refers_to(resource, logical_id)
        ]
        if referrers:
            raise TemplateProblem(f"{logical_id}: cannot be removed, {', '.join(referrers)} refer to it")
        del template["Resources"][logical_id]

    return remove


def _refers_to(node: Any, logical_id: str) -> bool:
    if isinstance(node, dict):
        if node.get("Ref") == logical_id or node.get("Fn::GetAtt", [None])[0] == logical_id:
            return True
        depends_on = node.get("DependsOn")
        if depends_on == logical_id or (isinstance(depends_on, list) and logical_id in depends_on):
            return True
        return any(_refers_to(value, logical_id) for value in node.values())
    if isinstance(node, list):
        return any(_refers_to(item, logical_id) for item in node)
    return False


def cognito_stand_in_edits(template: Template, actions: set[str], stand_in_url: str) -> list[TemplateEdit]:
    """For each action in `actions`, its function calls Cognito at `stand_in_url` instead of MiniStack."""
    handlers = {spec.handler: spec.name for spec in ACTIONS if spec.name in actions}
    edits = []
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] != "AWS::Lambda::Function" or properties.get("Handler") not in handlers:
            continue
        action = handlers.pop(properties["Handler"])
        edits.append(
            TemplateEdit(
                f"set {COGNITO_ENDPOINT_VARIABLE}={stand_in_url} in {logical_id}'s Environment",
                f"{MINISTACK}'s Cognito has no {action}; deploy-check's stand-in answers it (see "
                "deploy_check/stand_in.py)",
                _environment_variable(logical_id, COGNITO_ENDPOINT_VARIABLE, stand_in_url),
            )
        )
    if handlers:
        raise TemplateProblem(f"no AWS::Lambda::Function has the Handler of {', '.join(handlers.values())}")
    return edits


def _environment_variable(logical_id: str, name: str, value: str) -> Callable[[Template], None]:
    def set_variable(template: Template) -> None:
        properties = template["Resources"][logical_id]["Properties"]
        properties.setdefault("Environment", {}).setdefault("Variables", {})[name] = value

    return set_variable


@dataclass(frozen=True)
class LayerVersion:
    region: str
    account: str
    name: str
    version: int

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:layer:{self.name}:{self.version}"


def referenced_layers(template: Template, *, region: str, account: str) -> set[LayerVersion]:
    """Every layer version the template's functions reference, their ARNs resolved for `region`."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": account}
    resolver = Resolver(template, pseudo, _no_resource)
    layers = set()
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        for reference in resource["Properties"].get("Layers", []):
            try:
                arn = str(resolver.resolve(reference, logical_id, "Layers"))
            except TemplateError as error:
                raise TemplateProblem(str(error)) from None
            parts = arn.split(":")
            if len(parts) != 8 or parts[5] != "layer" or not parts[7].isdigit():
                raise TemplateProblem(f"{logical_id}.Layers: {arn!r} is not a layer version ARN")
            layers.add(LayerVersion(parts[3], parts[4], parts[6], int(parts[7])))
    return layers


def _no_resource(logical_id: str) -> Physical:
    raise TemplateError(logical_id, "Ref", "a layer ARN is built from literals and pseudo parameters only")


def bootstrap_version_parameter(template: Template) -> str | None:
    """The SSM parameter CDK's bootstrap-version check reads, if the template has the check."""
    parameter = template.get("Parameters", {}).get("BootstrapVersion")
    return str(parameter["Default"]) if parameter else None
