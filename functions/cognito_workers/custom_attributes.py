"""Whether a pool's custom attributes are the ones an AddCustomAttributes command asks for.

Cognito refuses to add an attribute whose name exists ("Existing attribute already has name ...") whatever
the existing attribute's type, and refuses the whole call when any one of the attributes asked for exists.
So that answer means the command's effect holds only when every attribute it asks for is in the pool's
schema (DescribeUserPool's SchemaAttributes) as asked: each field and String or Number constraint the command
sets must be what Cognito reports. What the command leaves unset is Cognito's to default, and not compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The fields of a SchemaAttributeType compared one by one; the constraints are compared key by key.
_COMPARED_FIELDS = ("Mutable", "DeveloperOnlyAttribute", "Required")
_CONSTRAINTS = ("StringAttributeConstraints", "NumberAttributeConstraints")


def _schema_names(name: str) -> tuple[str, str]:
    """How Cognito names a custom attribute in the schema: custom:<name>, or dev:custom:<name> when it is
    developer-only."""
    return f"custom:{name}", f"dev:custom:{name}"


def _attribute_differences(asked: Mapping[str, Any], existing: Mapping[str, Any], name: str) -> list[str]:
    differences = []
    asked_type, existing_type = asked.get("AttributeDataType"), existing.get("AttributeDataType")
    if asked_type is not None and asked_type != existing_type:
        differences.append(f"{name} exists as {existing_type}, asked as {asked_type}")
    for field in _COMPARED_FIELDS:
        if field in asked and asked[field] != existing.get(field):
            differences.append(f"{name} exists with {field} {existing.get(field)}, asked {asked[field]}")
    for constraints in _CONSTRAINTS:
        existing_constraints = existing.get(constraints) or {}
        for key, value in (asked.get(constraints) or {}).items():
            if existing_constraints.get(key) != value:
                differences.append(
                    f"{name} exists with {constraints}.{key} {existing_constraints.get(key, 'unset')},"
                    f" asked {value}"
                )
    return differences


def custom_attribute_differences(params: Mapping[str, Any], pool: Mapping[str, Any]) -> list[str]:
    """What the pool (a DescribeUserPool response) holds unlike the attributes an AddCustomAttributes
    command's params ask for, one line per difference; none when every attribute exists as asked."""
    schema = {attribute["Name"]: attribute for attribute in pool["UserPool"].get("SchemaAttributes", [])}
    differences: list[str] = []
    for asked in params["CustomAttributes"]:
        names = _schema_names(asked.get("Name", ""))
        existing = next((schema[name] for name in names if name in schema), None)
        if existing is None:
            differences.append(
                f"{names[0]} is not in the pool's schema: Cognito refused the whole call because another"
                " attribute exists, so send this one on its own"
            )
        else:
            differences += _attribute_differences(asked, existing, names[0])
    return differences
