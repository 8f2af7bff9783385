"""Who called what, on which resource: each request the local server answers, seen as IAM sees it.

Each local function signs its requests with an access key id of its own (its function name; see
lambda_sqs.environment_clients), so the server can tell the functions apart. For every request this
middleware records (principal, IAM action, resource ARN) and the condition keys the roles' statements
test: `events:source` for each PutEvents entry, `iam:PassedToService` for a role passed to a service.
iam_check.py compares the record with the roles the template grants.

- The principal is the access key id of the request's SigV4 credential scope; the service is its service.
- The operation is the X-Amz-Target's (JSON protocols), the form's Action (query protocol), or the one
  whose method, request URI, query keys and required headers match (REST protocols, found in botocore's
  service model; the one asking the most, as GET /{Bucket}?list-type=2 is ListObjectsV2, not ListObjects,
  and a PUT with x-amz-copy-source is CopyObject, not PutObject).
- The IAM action is `<service>:<operation>`, except that SQS's batch operations are authorized as their
  single-message actions (DeleteMessageBatch as sqs:DeleteMessage), as SQS does, and S3's operations as
  the actions S3 authorizes them as (ListObjectsV2 as s3:ListBucket, HeadObject as s3:GetObject).
- The resource is the ARN the request names (a pool, table, queue, bus, schedule, bucket or object); "*"
  for operations on no resource. CreateSchedule also passes its target's role to EventBridge Scheduler:
  it records iam:PassRole on that role.
"""

from __future__ import annotations

import functools
import io
import json
import re
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import botocore.session

from local_aws.quotas import WsgiApp

ACCOUNT_ID = "123456789012"  # moto's default account
_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")
_NO_CONDITION = ("", "")
_BATCH_ACTIONS = {
    "DeleteMessageBatch": "DeleteMessage",
    "SendMessageBatch": "SendMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
# S3 operations authorized under another action's name (S3 user guide, "Policy actions for Amazon S3").
_S3_ACTIONS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "HeadObject": "GetObject",
}


@dataclass(frozen=True, order=True)
class Call:
    principal: str
    action: str
    resource: str
    condition_key: str = ""  # the one condition key the call carries, if any
    condition_value: str = ""

    @property
    def context(self) -> dict[str, str]:
        return {self.condition_key: self.condition_value} if self.condition_key else {}


@dataclass(frozen=True)
class _Request:
    region: str
    service: str
    operation: str
    body: dict[str, Any]
    path_parameters: dict[str, str]

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"


def _bus_arn(request: _Request, bus: str) -> str:
    return bus if bus.startswith("arn:") else request.arn("events", f"event-bus/{bus}")


def _resources(request: _Request) -> Iterator[tuple[str, str, tuple[str, str]]]:
    """(operation for IAM, resource, condition key and value) of each thing the request acts on."""
    body, operation = request.body, _BATCH_ACTIONS.get(request.operation, request.operation)
    if request.service == "cognito-idp" and "UserPoolId" in body:
        yield operation, request.arn("cognito-idp", f"userpool/{body['UserPoolId']}"), _NO_CONDITION
    elif request.service == "dynamodb" and "TableName" in body:
        yield operation, request.arn("dynamodb", f"table/{body['TableName']}"), _NO_CONDITION
    elif request.service == "sqs" and "QueueUrl" in body:
        yield operation, request.arn("sqs", body["QueueUrl"].rstrip("/").rsplit("/", 1)[1]), _NO_CONDITION
    elif request.service == "events" and operation == "PutEvents":
        for entry in body.get("Entries", []):
            yield (
                operation,
                _bus_arn(request, entry.get("EventBusName") or "default"),
                ("events:source", entry.get("Source", "")),
            )
    elif request.service == "s3" and "Bucket" in request.path_parameters:
        bucket, key = request.path_parameters["Bucket"], request.path_parameters.get("Key")
        yield (
            _S3_ACTIONS.get(operation, operation),
            f"arn:aws:s3:::{bucket}" if key is None else f"arn:aws:s3:::{bucket}/{key}",
            _NO_CONDITION,
        )
    elif request.service == "scheduler" and "Name" in request.path_parameters and "Group" not in operation:
        group = body.get("GroupName") or "default"
        yield (
            operation,
            request.arn("scheduler", f"schedule/{group}/{request.path_parameters['Name']}"),
            _NO_CONDITION,
        )
        if role := body.get("Target", {}).get("RoleArn"):
            yield "iam:PassRole", role, ("iam:PassedToService", "scheduler.amazonaws.com")
    else:
        yield operation, "*", _NO_CONDITION


@dataclass(frozen=True)
class _Route:
    method: str
    path: re.Pattern[str]
    # What a request of the operation must carry beyond its path: the query keys its request URI sets
    # (list-type of ?list-type=2) or its required members ask, and the headers they ask (CopyObject's
    # x-amz-copy-source, as WSGI names it: HTTP_X_AMZ_COPY_SOURCE).
    query_keys: frozenset[str]
    headers: frozenset[str]
    operation: str

    @property
    def specificity(self) -> int:
        return len(self.query_keys) + len(self.headers)


@functools.cache
def _rest_routes(service: str) -> list[_Route]:
    """The service's REST operations, from botocore's model."""
    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        parts = re.split(r"\{(\w+\+?)\}", path)  # literal, label, literal, label, ...
        pattern = "".join(
            re.escape(part)
            if index % 2 == 0
            else f"(?P<{part[:-1]}>.+)"  # a greedy label ({Key+}) spans slashes
            if part.endswith("+")
            else f"(?P<{part}>[^/]+)"
            for index, part in enumerate(parts)
        )
        keys = {key for key, _ in urllib.parse.parse_qsl(query, keep_blank_values=True)}
        headers = set()
        input_shape = model.operation_model(name).input_shape
        members = input_shape.members if input_shape else {}
        for member in input_shape.required_members if input_shape else ():
            serialization = members[member].serialization
            if serialization.get("location") == "querystring":
                keys.add(serialization["name"])
            elif serialization.get("location") == "header":
                headers.add("HTTP_" + serialization["name"].upper().replace("-", "_"))
        routes.append(
            _Route(http["method"], re.compile(f"^{pattern}$"), frozenset(keys), frozenset(headers), name)
        )
    return routes


def _parse(environ: dict[str, Any], raw: bytes, *, region: str, service: str) -> _Request:
    target: str = environ.get("HTTP_X_AMZ_TARGET", "")
    path_parameters: dict[str, str] = {}
    if target:
        operation = target.rsplit(".", 1)[-1]
        body = json.loads(raw or b"{}")
    elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        operation, body = form.get("Action", "Unknown"), form
    else:
        path = urllib.parse.unquote(environ.get("PATH_INFO", "/"))
        query_keys = {
            key for key, _ in urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        }
        matches = sorted(
            (
                (route, match.groupdict())
                for route in _rest_routes(service)
                if route.method == environ["REQUEST_METHOD"]
                and route.query_keys <= query_keys
                and route.headers <= environ.keys()
                and (match := route.path.match(path))
            ),
            key=lambda matched: -matched[0].specificity,
        )
        operation, path_parameters = (matches[0][0].operation, matches[0][1]) if matches else ("Unknown", {})
        body = json.loads(raw) if raw.strip().startswith(b"{") else {}
    return _Request(region, service, operation, body, path_parameters)


def calls_of(environ: dict[str, Any], raw: bytes) -> list[Call]:
    """The calls a request makes, by the key it was signed with; none for an unsigned request. A request
    this log cannot read is recorded as an unreadable call (which no role allows), never refused."""
    scope = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope is None:
        return []
    principal = scope[1]
    try:
        request = _parse(environ, raw, region=scope[2], service=scope[3])
    except (ValueError, AttributeError, TypeError) as error:  # a body not shaped as its protocol says
        return [Call(principal, f"{scope[3]}:unreadable", f"{environ.get('PATH_INFO')}: {error}")]
    return [
        Call(principal, action if ":" in action else f"{request.service}:{action}", resource, *condition)
        for action, resource, condition in _resources(request)
    ]


class AccessLog:
    """WSGI middleware: records each request's calls, then passes it on with its body intact."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._calls: Counter[Call] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        calls = calls_of(environ, raw)
        with self._lock:
            self._calls.update(calls)
        return self._app(environ, start_response)

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**asdict(call), "count": count} for call, count in sorted(self._calls.items())]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
