"""Reading a CloudFormation template as the local AWS deploys it: intrinsic functions resolved against the
resources created so far, and named edits to a copy of the template, each with its reason.

Resolution covers what the CDK writes into this stack: Ref (of resources and pseudo parameters),
Fn::GetAtt, Fn::Join, Fn::Sub and Fn::Select. Anything else, or a Ref/GetAtt that cannot be resolved,
fails with a `TemplateError` naming the resource, the property and the reason.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from local_aws.errors import LocalAwsError

NO_VALUE = object()  # AWS::NoValue: the property is left out


class TemplateError(LocalAwsError):
    """One line: the resource, the property and why the local AWS cannot deploy it."""

    def __init__(self, logical_id: str, prop: str, reason: str) -> None:
        super().__init__(f"{logical_id}.{prop}: {reason}")
        self.logical_id = logical_id
        self.prop = prop
        self.reason = reason


@dataclass(frozen=True)
class Physical:
    """What a created resource answers to Ref and Fn::GetAtt."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateEdit:
    """A change to the template copy the local AWS deploys, with the reason it is made."""

    description: str
    reason: str
    apply: Callable[[dict[str, Any]], None]

    def __str__(self) -> str:
        return f"{self.description}: {self.reason}"


def edited(template: Mapping[str, Any], edits: Sequence[TemplateEdit]) -> dict[str, Any]:
    """A deep copy of the template with the edits applied in order; the original is left as it is."""
    copied = copy.deepcopy(dict(template))
    for edit in edits:
        edit.apply(copied)
    return copied


def resources_of_type(
    template: Mapping[str, Any], resource_type: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == resource_type:
            yield logical_id, resource


def set_property(
    resource_type: str,
    name: str,
    value: Any,
    *,
    description: str,
    reason: str,
    where: Callable[[dict[str, Any]], bool] = lambda properties: True,
) -> TemplateEdit:
    """Every resource of the type (whose properties `where` accepts) gets the property's value, where it
    sets the property at all."""

    def apply(template: dict[str, Any]) -> None:
        for _, resource in resources_of_type(template, resource_type):
            properties = resource.setdefault("Properties", {})
            if name in properties and where(properties):
                properties[name] = value

    return TemplateEdit(description, reason, apply)


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Resolves a resource's property values; `physical(logical_id)` creates a resource on first use."""

    def __init__(
        self,
        template: Mapping[str, Any],
        pseudo_parameters: Mapping[str, str],
        physical: Callable[[str], Physical],
    ) -> None:
        self._resources: Mapping[str, Any] = template["Resources"]
        self._parameters: Mapping[str, Any] = template.get("Parameters", {})
        self._pseudo = pseudo_parameters
        self._physical = physical

    def resolve(self, value: Any, logical_id: str, prop: str) -> Any:
        if isinstance(value, list):
            items = (self.resolve(item, logical_id, prop) for item in value)
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, argument, logical_id, prop)
        resolved = {key: self.resolve(item, logical_id, prop) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _intrinsic(self, name: str, argument: Any, logical_id: str, prop: str) -> Any:
        if name == "Ref":
            return self._ref(argument, logical_id, prop)
        if name == "Fn::GetAtt":
            target, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self._get_att(target, attribute, logical_id, prop)
        if name == "Fn::Join":
            separator, parts = argument
            return separator.join(str(part) for part in self.resolve(parts, logical_id, prop))
        if name == "Fn::Select":
            index, items = argument
            return self.resolve(items, logical_id, prop)[int(index)]
        if name == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return self._sub(text, self.resolve(variables, logical_id, prop), logical_id, prop)
        raise TemplateError(logical_id, prop, f"{name} is not resolved by the local AWS")

    def _ref(self, target: str, logical_id: str, prop: str) -> Any:
        if target == "AWS::NoValue":
            return NO_VALUE
        if target in self._pseudo:
            return self._pseudo[target]
        if target in self._parameters:
            raise TemplateError(
                logical_id, prop, f"Ref {target}: template parameters are not resolved locally"
            )
        if target not in self._resources:
            raise TemplateError(logical_id, prop, f"Ref {target}: no such resource or pseudo parameter")
        return self._physical(target).ref

    def _get_att(self, target: str, attribute: str, logical_id: str, prop: str) -> str:
        if target not in self._resources:
            raise TemplateError(logical_id, prop, f"Fn::GetAtt {target}.{attribute}: no such resource")
        attributes = self._physical(target).attributes
        if attribute not in attributes:
            raise TemplateError(
                logical_id,
                prop,
                f"Fn::GetAtt {target}.{attribute}: the local AWS does not give that attribute",
            )
        return attributes[attribute]

    def _sub(self, text: str, variables: Mapping[str, Any], logical_id: str, prop: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match[1]
            if name in variables:
                return str(variables[name])
            target, _, attribute = name.partition(".")
            if attribute and target in self._resources:
                return self._get_att(target, attribute, logical_id, prop)
            return str(self._ref(name, logical_id, prop))

        return _SUB_VARIABLE.sub(value, text).replace("${!", "${")
