"""Make moto's server faster where it spends time on nothing the product depends on.

Each patch keeps moto's behaviour and only removes repeated work; `install()` is idempotent. Measured with
py-spy on the lifecycle pipeline; docs/benchmarks.md says what each bought.
"""

from __future__ import annotations

import copy
import functools
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any, cast

import jsonpath_ng.ext
from botocore.exceptions import ClientError
from flask import Response
from moto import backends
from moto.core import responses
from moto.core.utils import (
    camelcase_to_underscores,
    convert_to_flask_response,
    unix_time,
    unix_time_millis,
)
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # untyped module
from moto.events.models import EventPattern, EventsBackend
from moto.events.utils import _BASE_EVENT_MESSAGE, EventMessageType
from moto.moto_api import recorder
from moto.moto_api._internal import mock_random
from moto.moto_server.werkzeug_app import BackendRequest, DomainDispatcherApplication
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend
from werkzeug.exceptions import HTTPException


def install() -> None:
    _memoize_jsonpath()
    _read_retention_period_directly()
    _route_requests_without_listing_moto()
    _list_handler_methods_once()
    _dispatch_without_flask()
    _match_each_event_once()
    _parse_each_condition_once()
    _parse_each_update_expression_once()
    _compute_queue_attributes_on_demand()
    _scan_queues_once()


def _memoize_jsonpath() -> None:
    """moto builds a fresh JSONPath parser (PLY tables and all) for each of eight paths every time
    EventBridge delivers an event to a target: half the cost of PutEvents. Parsed paths are immutable,
    so one parse per distinct path serves every delivery."""
    parse = jsonpath_ng.ext.parse  # type: ignore[attr-defined]  # re-exported by jsonpath_ng, untyped
    if not hasattr(parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=512)(parse)  # type: ignore[attr-defined]


def _read_retention_period_directly() -> None:
    """ReceiveMessage checks every returned message's retention period by computing all of the queue's
    attributes (about 100 ms per receive at a depth of 300); the period alone is one attribute."""

    def is_message_valid_based_on_retention_period(
        self: SQSBackend, queue_name: str, message: Message
    ) -> bool:
        queue = self.get_queue(queue_name)
        retention_period = int(queue.message_retention_period)  # type: ignore[attr-defined]  # set from attributes
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]

    setattr(  # noqa: B010  # replacing moto's method; a plain assignment does not type-check
        SQSBackend, "is_message_valid_based_on_retention_period", is_message_valid_based_on_retention_period
    )


def _route_requests_without_listing_moto() -> None:
    """Every request picks its backend under one server-wide lock, and the pick lists moto's package
    directory (some 200 stat calls) each time: requests queue behind each other's directory listing. The
    list and each host's backend never change while the server runs."""
    if not hasattr(backends.list_of_moto_modules, "cache_info"):
        modules = backends.list_of_moto_modules
        backends.list_of_moto_modules = functools.lru_cache(maxsize=1)(lambda: tuple(modules()))
    backend_for_host = DomainDispatcherApplication.get_backend_for_host
    if not hasattr(backend_for_host, "cache_info"):
        cached = functools.lru_cache(maxsize=256)(backend_for_host)
        DomainDispatcherApplication.get_backend_for_host = cached  # type: ignore[method-assign]


def _list_handler_methods_once() -> None:
    """Every request looks its action up among its handler class's methods, which moto lists anew with
    inspect.getmembers each time (about 4% of the server's time); a class's methods are fixed once the
    extensions are installed."""
    listed = responses.method_names_from_class  # type: ignore[attr-defined]  # moto's own import
    if not hasattr(listed, "cache_info"):
        responses.method_names_from_class = functools.lru_cache(maxsize=256)(listed)  # type: ignore[attr-defined]


def _dispatch_without_flask() -> None:
    """A request reaches moto's handler through a Flask app per service (request context, hooks, CORS),
    whose view (convert_to_flask_response) calls the handler with the request: 11% of the server's time.
    Here the handler is found in the same app's URL map and called as that view calls it; a request the
    map does not route to such a view still goes through Flask."""
    if getattr(DomainDispatcherApplication.__call__, "flaskless", False):
        return

    def call(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
        app = self.get_application(environ)
        try:
            endpoint, _ = app.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return app(environ, start_response)
        view = app.view_functions.get(endpoint)
        if not isinstance(view, convert_to_flask_response):
            return app(environ, start_response)
        request = BackendRequest(environ)
        recorder._record_request(request)
        try:
            result = view.callback(request, request.raw_url, dict(request.headers))
        except ClientError as error:
            result = 400, {}, error.response["Error"]["Message"]
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = Response(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        return response(environ, start_response)

    call.flaskless = True  # type: ignore[attr-defined]
    setattr(DomainDispatcherApplication, "__call__", call)  # noqa: B010  # replacing moto's method


def _match_each_event_once() -> None:
    """PutEvents builds each entry's event anew for every rule on its bus (a deep copy, the detail parsed,
    the clock read twice), and every rule's pattern serializes and parses it again to match it: with the
    stack's twenty-odd rules, a fifth of the server's time. Here each event is built and flattened once and
    every pattern matched against that; only a rule that matches gets its own copy to deliver, through
    moto's own delivery. An entry moto refuses (or warns about) is still moto's to answer."""
    moto_put_events = EventsBackend.put_events
    if getattr(moto_put_events, "matches_once", False):
        return

    def put_events(self: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(events) > 10:
            return moto_put_events(self, events)
        entries = []
        for event in events:
            detail = _detail_of(event)
            if detail is None:
                entries += moto_put_events(self, [event])
                continue
            event_id = str(mock_random.uuid4())
            entries.append({"EventId": event_id})
            now = time.time()  # moto's unix_time(), without its two datetime conversions
            message = {
                **_BASE_EVENT_MESSAGE,
                "id": event_id,
                "detail-type": event["DetailType"],
                "source": event["Source"],
                "account": self.account_id,
                "time": event.get("Time", now),
                "region": self.region_name,
                "resources": event.get("Resources", []),
                "detail": detail,
                "ingestion-time": now,
            }
            flat = EventPattern._flatten_dict(json.loads(json.dumps(message)))
            bus = self.describe_event_bus(self._normalize_event_bus_arn(event.get("EventBusName")))
            for rule in list(bus.rules.values()):
                pattern = rule.event_pattern
                if not pattern._pattern or pattern._does_event_match(flat, pattern._pattern):
                    # A copy of its own: a target may change the event it is given.
                    rule.send_to_targets(cast(EventMessageType, copy.deepcopy(message)))
        return entries

    put_events.matches_once = True  # type: ignore[attr-defined]
    setattr(EventsBackend, "put_events", put_events)  # noqa: B010  # replacing moto's method


def _detail_of(event: dict[str, Any]) -> dict[str, Any] | None:
    """The entry's detail when moto would deliver it without a word: Source, DetailType and a JSON object."""
    if not (event.get("Source") and event.get("DetailType") and event.get("Detail")):
        return None
    try:
        detail = json.loads(event["Detail"])
    except ValueError:
        return None
    return detail if isinstance(detail, dict) else None


def _parse_each_condition_once() -> None:
    """A conditional PutItem or UpdateItem has its condition expression parsed twice, once to check the
    names and values it uses and once to apply it: 12% of the server's time in the demo. A parse depends
    on the expression, its names and its values alone, so the second is a lookup."""
    moto_parse = ConditionExpressionParser.parse
    if hasattr(moto_parse, "parsed"):
        return

    @functools.lru_cache(maxsize=256)
    def parsed(
        expression: str | None, names: str, values: str
    ) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
        parser = ConditionExpressionParser(expression, json.loads(names), json.loads(values))
        condition = moto_parse(parser)
        return condition, tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found)

    def parse(self: ConditionExpressionParser) -> Any:
        condition, names_found, values_found = parsed(
            self.condition_expression,
            json.dumps(self.expression_attribute_names, sort_keys=True),
            json.dumps(self.expression_attribute_values, sort_keys=True),
        )
        self.expr_attr_names_found.extend(names_found)
        self.expr_attr_values_found.extend(values_found)
        return condition

    parse.parsed = parsed  # type: ignore[attr-defined]
    setattr(ConditionExpressionParser, "parse", parse)  # noqa: B010  # replacing moto's method


def _parse_each_update_expression_once() -> None:
    """UpdateItem parses its update expression twice (to check the names and values it uses, then to apply
    it), and the idempotency records of every command are completed with the same expression. The parse
    depends on the expression alone, and nothing changes the tree it gives (moto validates a deep copy)."""
    make = UpdateExpressionParser.make
    if not hasattr(make, "cache_info"):
        setattr(UpdateExpressionParser, "make", staticmethod(functools.lru_cache(maxsize=256)(make)))  # noqa: B010


class _QueueAttributes(Mapping[str, Any]):
    """moto's Queue.attributes, each value computed when asked for. moto builds the whole dict (three
    passes over the queue's messages for the approximate counts) to read one attribute, on every
    SendMessage and three times per attribute in GetQueueAttributes."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self._names = [
            *queue.BASE_ATTRIBUTES,
            *(queue.FIFO_ATTRIBUTES if queue.fifo_queue else ()),
            *(queue.KMS_ATTRIBUTES if queue.kms_master_key_id else ()),  # type: ignore[attr-defined]
        ]

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        value = getattr(self._queue, camelcase_to_underscores(name))
        if name == "RedrivePolicy" and value:
            value = json.dumps(value)
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _compute_queue_attributes_on_demand() -> None:
    setattr(Queue, "attributes", property(_QueueAttributes))  # noqa: B010  # replacing moto's property


class _VisibleMessages:
    """moto's Queue.messages (the visible ones: not in flight, not delayed), found as they are iterated, as
    of one clock reading. moto iterates it to receive, tests it for truth to end a long poll, and counts it
    for ApproximateNumberOfMessages."""

    def __init__(self, queue: Queue) -> None:
        self._messages = list(queue._messages)  # a copy (C speed): callers remove from the queue as they go
        self._now = unix_time_millis()

    def __iter__(self) -> Iterator[Message]:
        now = self._now
        # As Message.visible and Message.delayed, with one clock reading.
        return (m for m in self._messages if now > m.visible_at and now >= m.delayed_until)

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _scan_queues_once() -> None:
    """ReceiveMessage and DeleteMessage walk every message of the queue. moto reads the clock once per
    message on the way (twice, for visible and delayed), builds a list of receipt handles per message to
    compare one, and goes on to the end of the queue after it has what it came for: at a depth of 10,000
    that is most of the server's time. Here a receive reads the clock once and walks only until it has its
    batch, and a delete stops at its message: received messages are the oldest, at the front."""

    def delete_message(self: Queue, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # deleting again succeeds, as in moto and SQS
        messages = self._messages
        for index, message in enumerate(messages):
            if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles:
                self.pending_messages.discard(message)
                self.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]
                # A new list, as moto's own delete makes: a receive walking the old one is not disturbed.
                self._messages = messages[:index] + messages[index + 1 :]
                return
        raise ReceiptHandleIsInvalid()

    setattr(Queue, "messages", property(_VisibleMessages))  # noqa: B010  # replacing moto's property
    setattr(Queue, "delete_message", delete_message)  # noqa: B010  # replacing moto's method
