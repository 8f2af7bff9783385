"""Provision the stack on the local endpoint from its synthesized template: what the stack declares is what
the local AWS creates, and what each function's environment holds is what the template gives it.

The template (local_aws/synth.py: cdk.json's context, with overrides; synthesized offline and cached) is
read resource by resource, its intrinsic functions resolved against what was created before
(local_aws/template.py). Created on the local AWS: the event bus, its rules and their targets (with their
DLQs, retry policies and input paths), the queues with their redrive policies, the tables with their keys
and time-to-live attribute, the user pool with its client and groups, the schedule group, and the IAM
roles with their inline policies. The functions and their SQS event source mappings are recorded, not
created: moto cannot run Lambda code without Docker, so the local pipeline (local_aws/pipeline.py) runs
each mapping, handing its batches to the handler the template names, in an execution environment holding
the function's environment variables, timeout and memory. What the local AWS leaves out is listed in
NOT_DEPLOYED_LOCALLY with the reason; any other resource type fails the provisioning, naming it.

Beside the stack, the local deployment adds one thing of its own: a queue collecting every audit event
(the outcome source's events), for local inspection.

Local runs differ from the template only by named edits to a copy of it (`local_edits`), each with its
reason: by default the queues' visibility timeout, so that a failed record comes back in seconds rather
than minutes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import boto3

from cognito_workers.catalog import ACTIONS, PLANNER, RECONCILER
from cognito_workers.settings import ConsumerSettings, PlannerSettings, WorkerSettings
from local_aws.context import cdk_context
from local_aws.quotas import QuotaScale, scaled_rates
from local_aws.synth import stack_template
from local_aws.template import Physical, Resolver, TemplateEdit, TemplateError, edited, set_property

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_CONTEXT = cdk_context()
PREFIX: str = _CONTEXT["resourcePrefix"]
HR_SOURCES: tuple[str, ...] = tuple(_CONTEXT["hrEventSources"])
HR_SOURCE = HR_SOURCES[0]  # the one the demo and the CLI publish with
COMMAND_SOURCES: tuple[str, ...] = tuple(_CONTEXT["commandSources"])
OUTCOME_SOURCE: str = _CONTEXT["outcomeEventSource"]
OPERATOR_SOURCE: str = _CONTEXT["operatorEventSource"]
MAX_RECEIVE_COUNT: int = _CONTEXT["maxReceiveCount"]
SANDBOX_GROUPS: tuple[str, ...] = tuple(_CONTEXT["sandboxGroups"])

SettingsT = TypeVar("SettingsT", bound=ConsumerSettings)
ACCOUNT_ID = "123456789012"  # moto's default account
# Locally a failed record comes back after this long (the stack: six times the function timeout).
LOCAL_VISIBILITY_TIMEOUT_SECONDS = 30

# Resource types in the template that the local AWS does not create, and why nothing is lost by it.
NOT_DEPLOYED_LOCALLY: Mapping[str, str] = {
    "AWS::KMS::Key": "the local AWS does not encrypt; queues, tables and topic are created without the key",
    "AWS::SQS::QueuePolicy": "the local AWS enforces no resource policy (the TLS-only deny among them)",
    "AWS::SNS::Topic": "the alarms' topic: there are no CloudWatch alarms locally",
    "AWS::SNS::TopicPolicy": "the alarms' topic: there are no CloudWatch alarms locally",
    "AWS::CloudWatch::Alarm": "no CloudWatch locally: the functions' metrics go to standard output as EMF",
    "AWS::CloudWatch::Dashboard": "no CloudWatch locally: nothing to show the EMF metrics on standard output",
    "AWS::Logs::LogGroup": "the local functions log to the process's standard error",
    "AWS::Events::Archive": "no replay locally: the local bus keeps no archive",
    "AWS::S3::BucketPolicy": "the local AWS enforces no resource policy (the TLS-only deny of the snapshot"
    " bucket)",
}
# Properties the local AWS has no use for, left unresolved: the bus's resource policy names every
# function's role, whose policies name the bus.
_UNUSED_PROPERTIES: Mapping[str, frozenset[str]] = {"AWS::Events::EventBus": frozenset({"Policy"})}
_SERVICE_OF_TYPE = {
    "AWS::KMS::Key": ("kms", "key/"),
    "AWS::SNS::Topic": ("sns", ""),
    "AWS::Logs::LogGroup": ("logs", "log-group:"),
    "AWS::Events::Archive": ("events", "archive/"),
}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuePair:
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str


@dataclass(frozen=True)
class LocalFunction:
    """A function of the template and the SQS event source mapping that feeds it. `name` is the catalog's
    (an action's or the planner's), `function_name` the deployed one; `environment` is resolved."""

    name: str
    function_name: str
    handler: str
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    role_arn: str
    queue: QueuePair
    batch_size: int
    max_batching_window_seconds: int
    maximum_concurrency: int
    reports_batch_item_failures: bool

    def settings(self, model: type[SettingsT]) -> SettingsT:
        """The function's settings, validated from its environment as the handler does in Lambda."""
        return model.from_environment(self.environment)


@dataclass(frozen=True)
class LocalDeployment:
    endpoint_url: str
    region: str
    user_pool_id: str
    app_client_id: str
    event_bus_name: str
    outcomes_queue_url: str
    functions: dict[str, LocalFunction]
    # Each role's inline policy documents, resolved, by role ARN.
    role_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    edits: tuple[str, ...] = ()

    @property
    def queues(self) -> dict[str, QueuePair]:
        """Each catalog action's queue pair, by action."""
        return {spec.name: self.functions[spec.name].queue for spec in ACTIONS}

    @property
    def planner_queue(self) -> QueuePair:
        return self.functions[PLANNER.name].queue

    @property
    def planner_functions(self) -> list[LocalFunction]:
        """The planner's functions deployed: its main one, and its lock-out lane (context lockOutLane)."""
        return [self.functions[name] for name in PLANNER.handlers if name in self.functions]

    def worker_settings(self, action: str) -> WorkerSettings:
        """What the template puts in the environment of the action's function."""
        return self.functions[action].settings(WorkerSettings)

    def planner_settings(self) -> PlannerSettings:
        """What the template puts in the environment of the lifecycle planner."""
        return self.functions[PLANNER.name].settings(PlannerSettings)

    @property
    def idempotency_table_name(self) -> str:
        return self.worker_settings(ACTIONS[0].name).idempotency_table_name

    @property
    def lifecycle_table_name(self) -> str:
        return self.planner_settings().lifecycle_table_name

    @property
    def leaver_threshold(self) -> int:
        return self.planner_settings().leaver_threshold

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LocalDeployment:
        fields: dict[str, Any] = json.loads(text)
        functions = {
            name: LocalFunction(**{**function, "queue": QueuePair(**function["queue"])})
            for name, function in fields.pop("functions").items()
        }
        return cls(**{**fields, "functions": functions, "edits": tuple(fields["edits"])})


def local_edits(
    *,
    visibility_timeout_seconds: int | None,
    function_timeout_seconds: int | None = None,
    batching_window_seconds: int | None = None,
) -> list[TemplateEdit]:
    """The local run's changes to the template copy, each with its reason."""
    edits = []
    if batching_window_seconds is not None:
        edits.append(
            set_property(
                "AWS::Lambda::EventSourceMapping",
                "MaximumBatchingWindowInSeconds",
                batching_window_seconds,
                description=f"every event source's batching window set to {batching_window_seconds} s",
                reason="a test about what the pipeline does, not how long each step waits to fill its batch",
            )
        )
    if visibility_timeout_seconds is not None:
        edits.append(
            set_property(
                "AWS::SQS::Queue",
                "VisibilityTimeout",
                visibility_timeout_seconds,
                description=f"every queue's VisibilityTimeout set to {visibility_timeout_seconds} s",
                reason="a failed record comes back in seconds, not after six function timeouts",
            )
        )
    if function_timeout_seconds is not None:
        worker_handlers = {spec.handler for spec in ACTIONS}
        edits.append(
            set_property(
                "AWS::Lambda::Function",
                "Timeout",
                function_timeout_seconds,
                description=f"every action worker's Timeout set to {function_timeout_seconds} s",
                reason="a killed worker's in-progress idempotency records expire at its deadline, so"
                " recovery is quicker",
                where=lambda properties: properties.get("Handler") in worker_handlers,
            )
        )
    return edits


def provision(
    endpoint_url: str,
    region: str,
    *,
    prefix: str | None = None,
    leaver_threshold: int | None = None,
    lock_out_lane: bool | None = None,
    quota_scale: float | QuotaScale | None = None,
    visibility_timeout_seconds: int | None = LOCAL_VISIBILITY_TIMEOUT_SECONDS,
    function_timeout_seconds: int | None = None,
    batching_window_seconds: int | None = None,
) -> LocalDeployment:
    """The stack as cdk.json configures it, on the local endpoint. `prefix` (cdk.json's resourcePrefix)
    names every resource: a second deployment on the same server needs its own. `quota_scale`: the quota
    budget paces every category at that share of Cognito's rates (quotaOverrides), as the local server
    enforces them with LocalAws.enforce_quotas(scale=). `prefix`, `leaver_threshold`, `lock_out_lane` and
    `quota_scale` are context knobs of the stack, so they are synthesized; the rest are edits."""
    overrides: dict[str, Any] = {}
    if prefix is not None:
        # Resources the stack leaves unnamed are named after the stack, so the stack needs a name of its own.
        overrides["resourcePrefix"] = prefix
        overrides["stackName"] = f"{_CONTEXT['stackName']}-{prefix}"
    if leaver_threshold is not None:
        overrides["leaverThreshold"] = leaver_threshold
    if lock_out_lane is not None:
        overrides["lockOutLane"] = lock_out_lane
    if quota_scale is not None:
        overrides["quotaOverrides"] = scaled_rates(quota_scale)
    edits = local_edits(
        visibility_timeout_seconds=visibility_timeout_seconds,
        function_timeout_seconds=function_timeout_seconds,
        batching_window_seconds=batching_window_seconds,
    )
    stack_name = overrides.get("stackName", _CONTEXT["stackName"])
    return deploy_template(
        endpoint_url, region, stack_template(overrides), stack_name=stack_name, edits=edits
    )


def deploy_template(
    endpoint_url: str,
    region: str,
    template: Mapping[str, Any],
    *,
    stack_name: str,
    edits: Sequence[TemplateEdit] = (),
) -> LocalDeployment:
    """Create what a copy of the template, with the edits applied, declares."""
    for edit in edits:
        logger.info("template edit: %s", edit)
    deployer = _TemplateDeployer(edited(template, edits), endpoint_url, region, stack_name)
    deployer.deploy()
    return deployer.deployment(edits=tuple(str(edit) for edit in edits))


_Creator = Callable[["_TemplateDeployer", str, dict[str, Any]], Physical]


class _TemplateDeployer:
    """Creates the template's resources on first use (a Ref or GetAtt creates its target first), so that
    they are made in an order their references allow, as CloudFormation's dependency graph does."""

    def __init__(self, template: dict[str, Any], endpoint_url: str, region: str, stack_name: str) -> None:
        self.template = template
        self.endpoint_url = endpoint_url
        self.region = region
        self.stack_name = stack_name
        self._session = boto3.session.Session(region_name=region)
        self._clients: dict[str, Any] = {}
        self._created: dict[str, Physical] = {}
        self._creating: set[str] = set()
        self.functions: dict[str, dict[str, Any]] = {}  # logical id -> resolved properties
        self.mappings: list[dict[str, Any]] = []
        self.queues: dict[str, tuple[str, str | None]] = {}  # ARN -> URL and the DLQ's ARN, as created
        self.role_policies: dict[str, list[dict[str, Any]]] = {}
        self.resolver = Resolver(
            template,
            {
                "AWS::Region": region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": self.stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{self.stack_name}/local",
            },
            self.physical,
        )

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]
        return self._clients[service]

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"

    def generated_name(self, logical_id: str, max_length: int = 64) -> str:
        """A physical name for a resource the template leaves unnamed (CloudFormation adds a suffix)."""
        return f"{self.stack_name}-{logical_id}"[:max_length]

    def deploy(self) -> None:
        for logical_id in self.template["Resources"]:
            self.physical(logical_id)

    def physical(self, logical_id: str) -> Physical:
        if logical_id not in self._created:
            if logical_id in self._creating:
                raise TemplateError(logical_id, "DependsOn", "circular reference")
            self._creating.add(logical_id)
            resource = self.template["Resources"][logical_id]
            resource_type = resource["Type"]
            properties = resource.get("Properties", {})
            if resource_type in NOT_DEPLOYED_LOCALLY:
                self._created[logical_id] = self._not_deployed(logical_id, resource_type, properties)
            elif resource_type in _CREATORS:
                unused = _UNUSED_PROPERTIES.get(resource_type, frozenset())
                used = {name: value for name, value in properties.items() if name not in unused}
                resolved = self.resolver.resolve(used, logical_id, "Properties")
                self._created[logical_id] = _CREATORS[resource_type](self, logical_id, resolved)
            else:
                raise TemplateError(logical_id, "Type", f"{resource_type} has no local stand-in")
        return self._created[logical_id]

    def _not_deployed(self, logical_id: str, resource_type: str, properties: dict[str, Any]) -> Physical:
        """A placeholder that other resources may still name (a key's ARN in a policy, say)."""
        service, resource_prefix = _SERVICE_OF_TYPE.get(resource_type, ("local", ""))
        name = properties.get("LogGroupName") or logical_id
        arn = self.arn(service, f"{resource_prefix}{name}")
        return Physical(ref=arn if service == "sns" else str(name), attributes={"Arn": arn})

    def resolved(self, value: Any, logical_id: str, prop: str) -> Any:
        return self.resolver.resolve(value, logical_id, prop)

    def deployment(self, *, edits: tuple[str, ...]) -> LocalDeployment:
        functions = self._local_functions()
        pools = [physical.ref for physical in self._of_type("AWS::Cognito::UserPool")]
        clients = [physical.ref for physical in self._of_type("AWS::Cognito::UserPoolClient")]
        buses = [physical.ref for physical in self._of_type("AWS::Events::EventBus")]
        planner = functions[PLANNER.name].environment
        outcomes_url = self._outcomes_queue(buses[0], planner["OUTCOME_EVENT_SOURCE"])
        outputs = {
            name: str(self.resolved(output["Value"], name, "Value"))
            for name, output in self.template.get("Outputs", {}).items()
        }
        return LocalDeployment(
            endpoint_url=self.endpoint_url,
            region=self.region,
            user_pool_id=planner["USER_POOL_ID"] if not pools else pools[0],
            app_client_id=clients[0] if clients else "",
            event_bus_name=buses[0],
            outcomes_queue_url=outcomes_url,
            functions=functions,
            role_policies=self.role_policies,
            outputs=outputs,
            edits=edits,
        )

    def _of_type(self, resource_type: str) -> list[Physical]:
        return [
            self._created[logical_id]
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        ]

    def _local_functions(self) -> dict[str, LocalFunction]:
        catalog_names = (
            {handler: name for name, handler in PLANNER.handlers.items()}
            | {spec.handler: spec.name for spec in ACTIONS}
            | {RECONCILER.handler: RECONCILER.name}
        )
        functions: dict[str, LocalFunction] = {}
        for mapping in self.mappings:
            properties = self.functions[mapping["function"]]
            queue_url, dead_letter_arn = self.queues[mapping["EventSourceArn"]]
            if dead_letter_arn is None:
                raise TemplateError(mapping["logical_id"], "EventSourceArn", "its queue has no RedrivePolicy")
            dead_letter_url = self.queues[dead_letter_arn][0]
            name = catalog_names.get(properties["Handler"], properties["FunctionName"])
            functions[name] = LocalFunction(
                name=name,
                function_name=properties["FunctionName"],
                handler=properties["Handler"],
                environment={
                    key: str(value)
                    for key, value in properties.get("Environment", {}).get("Variables", {}).items()
                },
                timeout_seconds=int(properties.get("Timeout", 3)),
                memory_mb=int(properties.get("MemorySize", 128)),
                role_arn=properties["Role"],
                queue=QueuePair(queue_url, mapping["EventSourceArn"], dead_letter_url, dead_letter_arn),
                batch_size=int(mapping.get("BatchSize", 10)),
                max_batching_window_seconds=int(mapping.get("MaximumBatchingWindowInSeconds", 0)),
                maximum_concurrency=int(mapping.get("ScalingConfig", {}).get("MaximumConcurrency", 1000)),
                reports_batch_item_failures="ReportBatchItemFailures"
                in mapping.get("FunctionResponseTypes", []),
            )
        return functions

    def _outcomes_queue(self, bus_name: str, outcome_source: str) -> str:
        """The local addition: every audit event lands in `<stack>-outcomes` for inspection."""
        sqs: SQSClient = self.client("sqs")
        name = f"{self.stack_name}-outcomes"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        events = self.client("events")
        events.put_rule(
            Name=name, EventBusName=bus_name, EventPattern=json.dumps({"source": [outcome_source]})
        )
        events.put_targets(
            Rule=name, EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": self.arn("sqs", name)}]
        )
        return str(url)


def _api_parameters(
    deployer: _TemplateDeployer, service: str, operation: str, properties: Mapping[str, Any]
) -> dict[str, Any]:
    """The properties that are parameters of the operation (CloudFormation mostly uses the API's names)."""
    members = deployer.client(service).meta.service_model.operation_model(operation).input_shape.members
    return {name: value for name, value in properties.items() if name in members}


def _event_bus(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    # Its resource policy (Policy) is not enforced locally.
    name = properties["Name"]
    answer = deployer.client("events").create_event_bus(
        **_api_parameters(deployer, "events", "CreateEventBus", properties)
    )
    return Physical(ref=name, attributes={"Arn": answer["EventBusArn"], "Name": name})


# Queue properties that are queue attributes; KMS encryption is left out (no KMS locally).
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def _queue(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    name = properties.get("QueueName") or deployer.generated_name(logical_id, 80)
    attributes = {
        key: json.dumps(value)
        if isinstance(value, dict)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for key, value in properties.items()
        if key in _QUEUE_ATTRIBUTES
    }
    url = deployer.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = deployer.arn("sqs", name)
    deployer.queues[arn] = (url, properties.get("RedrivePolicy", {}).get("deadLetterTargetArn"))
    return Physical(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


def _rule(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    name = properties.get("Name") or deployer.generated_name(logical_id)
    events = deployer.client("events")
    parameters = _api_parameters(deployer, "events", "PutRule", {**properties, "Name": name})
    if "EventPattern" in parameters:
        parameters["EventPattern"] = json.dumps(parameters["EventPattern"])
    arn = events.put_rule(**parameters)["RuleArn"]
    if targets := properties.get("Targets"):
        bus = properties.get("EventBusName", "default")
        answer = events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        if answer.get("FailedEntryCount"):
            raise TemplateError(logical_id, "Targets", f"refused: {answer['FailedEntries']}")
    return Physical(ref=name, attributes={"Arn": arn})


def _bucket(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    # Encryption (the key is not deployed locally), the public access block (nothing is public locally)
    # and the lifecycle's expiry (no local run lasts that long) have no local meaning and are left out.
    name = properties.get("BucketName") or deployer.generated_name(logical_id, 63).lower()
    s3 = deployer.client("s3")
    s3.create_bucket(Bucket=name)
    notifications = properties.get("NotificationConfiguration", {})
    if notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
    return Physical(ref=name, attributes={"Arn": f"arn:aws:s3:::{name}"})


def _table(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    # Encryption (SSESpecification) and point-in-time recovery have no local meaning and are left out.
    name = properties.get("TableName") or deployer.generated_name(logical_id, 255)
    dynamodb = deployer.client("dynamodb")
    parameters = _api_parameters(deployer, "dynamodb", "CreateTable", {**properties, "TableName": name})
    parameters.pop("SSESpecification", None)
    answer = dynamodb.create_table(**parameters)
    if ttl := properties.get("TimeToLiveSpecification"):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return Physical(ref=name, attributes={"Arn": answer["TableDescription"]["TableArn"]})


def _user_pool(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    parameters = {"PoolName": properties.get("UserPoolName") or deployer.generated_name(logical_id, 128)}
    parameters |= _api_parameters(deployer, "cognito-idp", "CreateUserPool", properties)
    pool = deployer.client("cognito-idp").create_user_pool(**parameters)["UserPool"]
    return Physical(
        ref=pool["Id"],
        attributes={
            "Arn": pool["Arn"],
            "UserPoolId": pool["Id"],
            "ProviderName": f"cognito-idp.{deployer.region}.amazonaws.com/{pool['Id']}",
        },
    )


def _user_pool_client(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    parameters = _api_parameters(deployer, "cognito-idp", "CreateUserPoolClient", properties)
    client = deployer.client("cognito-idp").create_user_pool_client(**parameters)["UserPoolClient"]
    return Physical(ref=client["ClientId"], attributes={"Name": client["ClientName"]})


def _user_pool_group(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    parameters = _api_parameters(deployer, "cognito-idp", "CreateGroup", properties)
    group = deployer.client("cognito-idp").create_group(**parameters)["Group"]
    return Physical(ref=group["GroupName"])


def _schedule_group(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    name = properties.get("Name") or deployer.generated_name(logical_id)
    arn = deployer.client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
    return Physical(ref=name, attributes={"Arn": arn})


def _role(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    iam = deployer.client("iam")
    name = properties.get("RoleName") or deployer.generated_name(logical_id)
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(properties["AssumeRolePolicyDocument"]),
        Description=properties.get("Description", ""),
    )["Role"]
    documents = []
    for policy in properties.get("Policies", []):
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=json.dumps(policy["PolicyDocument"]),
        )
        documents.append(policy["PolicyDocument"])
    deployer.role_policies[role["Arn"]] = documents
    return Physical(ref=name, attributes={"Arn": role["Arn"], "RoleId": role["RoleId"]})


def _function(deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]) -> Physical:
    """Recorded for the local pipeline, which runs it from its event source mapping."""
    name = properties.setdefault("FunctionName", deployer.generated_name(logical_id))
    deployer.functions[logical_id] = properties
    return Physical(ref=name, attributes={"Arn": deployer.arn("lambda", f"function:{name}")})


def _event_source_mapping(
    deployer: _TemplateDeployer, logical_id: str, properties: dict[str, Any]
) -> Physical:
    source = properties.get("EventSourceArn", "")
    if not source.startswith("arn:aws:sqs:"):
        raise TemplateError(
            logical_id, "EventSourceArn", f"{source}: the local pipeline runs SQS sources only"
        )
    function_name = properties["FunctionName"]
    (function,) = [
        logical
        for logical, fn in deployer.functions.items()
        if function_name in (fn["FunctionName"], logical)
    ]
    deployer.mappings.append({**properties, "function": function, "logical_id": logical_id})
    return Physical(ref=f"{function_name}-{logical_id}")


_CREATORS: Mapping[str, _Creator] = {
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::SQS::Queue": _queue,
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::Cognito::UserPoolGroup": _user_pool_group,
    "AWS::Scheduler::ScheduleGroup": _schedule_group,
    "AWS::IAM::Role": _role,
    "AWS::Lambda::Function": _function,
    "AWS::Lambda::EventSourceMapping": _event_source_mapping,
}
