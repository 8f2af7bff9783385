"""Reading the synthesized template: references, statements, and the queue-fed functions joined through their
references (never through their logical ids)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from cognito_workers.catalog import ACTIONS, ACTIONS_BY_NAME, PLANNER, RECONCILER
from cognito_workers.observability import TRACE_AWS_CALLS
from cognito_workers.settings import ConsumerSettings
from tests.infra.conftest import Synthesized

XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# What cognito_workers.observability reads: Powertools' variables, and whether to trace AWS calls.
OBSERVABILITY_VARIABLES = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    TRACE_AWS_CALLS,
}


SettingsT = TypeVar("SettingsT", bound=ConsumerSettings)


def settings_from(model: type[SettingsT], env: dict[str, Any]) -> SettingsT:
    """A function's settings from the template's environment, its references standing in as strings."""
    stand_ins = {"USER_POOL_ID": "eu-west-1_Stand1n"}
    return model.model_validate(
        {
            name: value if isinstance(value, str) else stand_ins.get(name, json.dumps(value))
            for name, value in env.items()
        }
    )


def ref_target(value: Any) -> str | None:
    """The logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]} points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(document["Statement"])


def mentions(value: Any, text: str) -> bool:
    return text in json.dumps(value)


def flatten(value: Any) -> Any:
    """A template value as one string where it is one: Fn::Join joined, {"Ref": x} as ${x} and
    {"Fn::GetAtt": [id, attr]} as ${id.attr}; lists flattened element-wise."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [flatten(item) for item in value]
    if isinstance(value, dict):
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(flatten(part)) for part in parts)
        if "Ref" in value:
            return f"${{{value['Ref']}}}"
        if "Fn::GetAtt" in value:
            return f"${{{'.'.join(value['Fn::GetAtt'])}}}"
    return value


def account_arn(service: str, resource: str) -> str:
    """An ARN of the stack's own partition, Region and account, as flatten() spells it."""
    return f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"


class Workers:
    """The template's queue-fed functions (the actions' workers and the lifecycle planner), joined through
    their references (never through their ids)."""

    def __init__(self, synthesized: Synthesized) -> None:
        self.s = synthesized
        self.functions = synthesized.of_type("AWS::Lambda::Function")
        self.mappings = synthesized.of_type("AWS::Lambda::EventSourceMapping")
        self.queues = synthesized.of_type("AWS::SQS::Queue")
        self.roles = synthesized.of_type("AWS::IAM::Role")

    def name_of(self, function_id: str) -> str:
        """The catalog name of a function, by its handler: an action's, one of the planner's, or the
        reconciler's."""
        handler = self.functions[function_id]["Properties"]["Handler"]
        names = [spec.name for spec in ACTIONS if spec.handler == handler]
        names += [name for name, planner_handler in PLANNER.handlers.items() if planner_handler == handler]
        names += [RECONCILER.name] if handler == RECONCILER.handler else []
        (name,) = names
        return name

    def by_function(self) -> dict[str, dict[str, Any]]:
        """For each queue-fed function: its function, role, mapping, queue and DLQ (logical ids)."""
        joined: dict[str, dict[str, Any]] = {}
        for mapping_id, mapping in self.mappings.items():
            function_id = ref_target(mapping["Properties"]["FunctionName"])
            assert function_id is not None
            queue_id = ref_target(mapping["Properties"]["EventSourceArn"])
            assert queue_id is not None
            redrive = self.queues[queue_id]["Properties"]["RedrivePolicy"]
            joined[self.name_of(function_id)] = {
                "function": function_id,
                "role": ref_target(self.functions[function_id]["Properties"]["Role"]),
                "mapping": mapping_id,
                "queue": queue_id,
                "dlq": ref_target(redrive["deadLetterTargetArn"]),
                "max_receive_count": int(redrive["maxReceiveCount"]),
            }
        return joined

    def by_action(self) -> dict[str, dict[str, Any]]:
        """The actions' workers only."""
        return {name: joined for name, joined in self.by_function().items() if name in ACTIONS_BY_NAME}

    def environment(self, name: str) -> dict[str, Any]:
        """The environment variables the template gives a function, by catalog name."""
        function = self.functions[self.by_function()[name]["function"]]
        variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
        return variables

    @property
    def planner(self) -> dict[str, Any]:
        return self.by_function()[PLANNER.name]

    def roles_assumed_by(self, service: str) -> dict[str, dict[str, Any]]:
        return {
            role_id: role
            for role_id, role in self.roles.items()
            if [s["Principal"] for s in statements(role["Properties"]["AssumeRolePolicyDocument"])]
            == [{"Service": service}]
        }


def tables_keyed_by(synthesized: Synthesized, key: str) -> set[str]:
    return {
        table_id
        for table_id, table in synthesized.of_type("AWS::DynamoDB::Table").items()
        if table["Properties"]["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
    }
