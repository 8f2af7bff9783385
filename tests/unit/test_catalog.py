"""The catalog covers the seed's operations, and every params model matches botocore's input shape."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import botocore.session
import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from pydantic import BaseModel
from pydantic.fields import FieldInfo

import cognito_workers.handlers
import cognito_workers.params
from cognito_workers.catalog import ACTIONS, ACTIONS_BY_NAME, PLANNER, RECONCILER, ActionSpec, QuotaCategory

# A copy of the seed (000_d1d1a4f8fbbbdcfb.txt): the Swagger file that names the operations.
SEED = Path(__file__).parents[1] / "data" / "seed_cognito_operations.yaml"
SERVICE_MODEL = botocore.session.get_session().get_service_model("cognito-idp")


def seed_operations() -> dict[str, set[str]]:
    """Operation name -> parameter names, read from the seed's Swagger paths."""
    operations: dict[str, set[str]] = {}
    current: set[str] = set()
    for line in SEED.read_text().splitlines():
        if match := re.match(r"\s+/\?Action=(\w+):", line):
            current = operations.setdefault(match.group(1), set())
        elif match := re.match(r"\s+name: (\w+)", line):
            current.add(match.group(1))
    return operations


def test_catalog_is_the_seed_operations_plus_what_the_lifecycle_needs() -> None:
    lifecycle_needs = {"AdminUserGlobalSignOut", "AdminUpdateUserAttributes"}
    assert set(ACTIONS_BY_NAME) == set(seed_operations()) | lifecycle_needs
    assert len(ACTIONS) == 21


@pytest.mark.parametrize(("operation", "names"), sorted(seed_operations().items()))
def test_every_seed_parameter_is_accepted(operation: str, names: set[str]) -> None:
    assert names <= set(ACTIONS_BY_NAME[operation].params_model.model_fields)


def test_there_is_one_handler_module_per_action_per_planner_function_and_the_reconciler_and_no_other() -> (
    None
):
    modules = {info.name for info in pkgutil.iter_modules(cognito_workers.handlers.__path__)}
    other_modules = {PLANNER.handler_module, PLANNER.lock_out_lane_handler_module, RECONCILER.handler_module}
    assert modules == {spec.operation for spec in ACTIONS} | {m.rsplit(".", 1)[1] for m in other_modules}
    for module_name in other_modules:
        assert callable(importlib.import_module(module_name).handler)
    for spec in ACTIONS:
        module = importlib.import_module(spec.handler_module)
        assert module.worker.spec is spec
        assert callable(module.handler)


def test_there_is_one_params_module_per_action_and_the_auth_flows_shapes_and_no_other() -> None:
    modules = {info.name for info in pkgutil.iter_modules(cognito_workers.params.__path__)}
    assert modules == {spec.operation for spec in ACTIONS} | {"auth"}
    for spec in ACTIONS:
        assert spec.params_model.__name__ == f"{spec.name}Params"
        assert spec.params_model.__module__ == spec.params_module


@pytest.mark.parametrize("spec", ACTIONS, ids=lambda spec: spec.name)
def test_operation_exists_in_botocore(spec: ActionSpec) -> None:
    assert spec.operation == botocore.xform_name(spec.name)
    assert spec.name in SERVICE_MODEL.operation_names


def _check_structure(model: type[BaseModel], shape: StructureShape, path: str) -> list[str]:
    problems: list[str] = []
    if set(model.model_fields) != set(shape.members):
        problems.append(f"{path}: fields {sorted(model.model_fields)} != botocore {sorted(shape.members)}")
        return problems
    for name, member in shape.members.items():
        field = model.model_fields[name]
        required_here = field.is_required()
        if required_here != (name in shape.required_members):
            problems.append(
                f"{path}.{name}: required={required_here}, botocore says {name in shape.required_members}"
            )
        problems.extend(_check_member(field, member, f"{path}.{name}"))
    return problems


def _resolve(annotation: Any, metadata: list[Any]) -> tuple[Any, dict[str, Any]]:
    """The type under Optional and Annotated, and its constraints by name (min_length, max_length, ge, le)."""
    alternatives = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(alternatives) == 1:
        return _resolve(alternatives[0], metadata)
    if get_origin(annotation) is Annotated:
        return _resolve(annotation.__origin__, [*metadata, *annotation.__metadata__])
    constraints: dict[str, Any] = {}
    for item in metadata:
        for name in ("min_length", "max_length", "ge", "le"):
            if getattr(item, name, None) is not None:
                constraints[name] = getattr(item, name)
        for nested in getattr(item, "metadata", []):  # FieldInfo inside Annotated
            constraints.update(_resolve(Any, [nested])[1])
    return annotation, constraints


def _check_member(field: FieldInfo, member: Shape, path: str) -> list[str]:
    return _check_type(field.annotation, list(field.metadata), member, path)


def _check_type(annotation: Any, metadata: list[Any], member: Shape, path: str) -> list[str]:
    base, constraints = _resolve(annotation, metadata)
    bounds = {key: member.metadata[key] for key in ("min", "max") if key in member.metadata}
    if member.type_name == "structure":
        assert isinstance(member, StructureShape)
        return _check_structure(base, member, path)
    if member.type_name == "list":
        assert isinstance(member, ListShape)
        expected = {"min_length": bounds.get("min") or None, "max_length": bounds.get("max")}
        actual = {key: constraints.get(key) for key in expected}
        problems = [] if actual == expected else [f"{path}: list bounds {actual} != botocore {expected}"]
        return problems + _check_type(get_args(base)[0], [], member.member, f"{path}[]")
    if member.type_name == "map":
        assert isinstance(member, MapShape)
        key_type, value_type = get_args(base)
        return _check_type(key_type, [], member.key, f"{path}{{key}}") + _check_type(
            value_type, [], member.value, f"{path}{{value}}"
        )
    if member.type_name == "string" and member.enum:
        return [] if set(get_args(base)) == set(member.enum) else [f"{path}: enum differs from botocore"]
    if member.type_name == "string":
        expected = {"min_length": bounds.get("min") or None, "max_length": bounds.get("max")}
        actual = {key: constraints.get(key) or None for key in expected}
        return [] if actual == expected else [f"{path}: length {actual} != botocore {expected}"]
    if member.type_name == "integer":
        expected = {"ge": bounds.get("min"), "le": bounds.get("max")}
        actual = {key: constraints.get(key) for key in expected}
        return (
            [] if base is int and actual == expected else [f"{path}: {base} {actual} != botocore {expected}"]
        )
    if member.type_name == "boolean":
        return [] if base is bool else [f"{path}: {base} is not bool"]
    return [f"{path}: botocore type {member.type_name} is not covered by this check"]


@pytest.mark.parametrize("spec", ACTIONS, ids=lambda spec: spec.name)
def test_params_model_matches_botocore_input_shape(spec: ActionSpec) -> None:
    shape = SERVICE_MODEL.operation_model(spec.name).input_shape
    assert _check_structure(spec.params_model, shape, spec.name) == []


def test_the_lock_out_actions_share_one_quota_category() -> None:
    # The lock-out lane is sized by that one category's budget (infra/concurrency.py)
    assert PLANNER.lock_out_actions == ("AdminDisableUser", "AdminUserGlobalSignOut")
    assert PLANNER.lock_out_category is QuotaCategory.USER_UPDATE
