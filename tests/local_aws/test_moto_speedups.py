"""The local server's PutEvents, which matches each event against the rules once (moto_speedups): every
rule whose pattern matches gets the event in EventBridge's shape, no other rule does, the entries moto
refuses keep moto's answer, and each event is flattened once, not once per rule."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.events.models import EventPattern

from local_aws import moto_speedups
from local_aws.server import LocalAws


@pytest.fixture
def bus_with_two_rules(local_aws: LocalAws) -> tuple[str, dict[str, str]]:
    """A fresh bus; rule "joiners" matches one detail-type, rule "hr" the whole source: (bus, queue urls)."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    bus = f"speedups-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=bus)
    patterns = {
        "joiners": {"source": ["hr"], "detail-type": ["EmployeeOnboarded"]},
        "hr": {"source": ["hr"], "detail": {"department": [{"exists": True}]}},
    }
    urls = {}
    for name, pattern in patterns.items():
        urls[name] = sqs.create_queue(QueueName=f"{bus}-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=urls[name], AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return bus, urls


def _delivered(url: str) -> list[dict[str, Any]]:
    answer = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def test_each_event_reaches_exactly_the_rules_that_match_it(
    bus_with_two_rules: tuple[str, dict[str, str]],
) -> None:
    bus, urls = bus_with_two_rules
    entries = [
        ("EmployeeOnboarded", {"username": "both", "department": "ops"}),
        ("EmployeeOnboarded", {"username": "joiners only"}),
        ("EmployeeUpdated", {"username": "hr only", "department": "ops"}),
        ("EmployeeUpdated", {"username": "neither"}),
    ]
    answer = boto3.client("events").put_events(
        Entries=[
            {"Source": "hr", "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": bus}
            for detail_type, detail in entries
        ]
    )
    joiners, hr = _delivered(urls["joiners"]), _delivered(urls["hr"])

    assert answer["FailedEntryCount"] == 0
    assert sorted(event["detail"]["username"] for event in joiners) == ["both", "joiners only"]
    assert sorted(event["detail"]["username"] for event in hr) == ["both", "hr only"]
    first = next(event for event in joiners if event["detail"]["username"] == "both")
    twin = next(event for event in hr if event["detail"]["username"] == "both")
    assert first == twin  # one event, one id and time, delivered to both rules
    assert first["id"] == answer["Entries"][0]["EventId"]
    assert (first["source"], first["detail-type"], first["region"]) == (
        "hr",
        "EmployeeOnboarded",
        "us-east-1",
    )
    assert datetime.fromisoformat(first["time"].replace("Z", "+00:00")).year >= 2026


def test_entries_moto_refuses_keep_its_answer_beside_the_accepted_ones(
    bus_with_two_rules: tuple[str, dict[str, str]],
) -> None:
    bus, urls = bus_with_two_rules
    answer = boto3.client("events").put_events(
        Entries=[
            {"Source": "hr", "DetailType": "EmployeeOnboarded", "Detail": "{not json", "EventBusName": bus},
            {
                "Source": "hr",
                "DetailType": "EmployeeOnboarded",
                "Detail": '{"username": "ok"}',
                "EventBusName": bus,
            },
        ]
    )

    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][0]["ErrorCode"] == "MalformedDetail"
    assert "EventId" in answer["Entries"][1]
    assert [event["detail"] for event in _delivered(urls["joiners"])] == [{"username": "ok"}]


def test_put_events_flattens_each_event_once_whatever_the_number_of_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the patch is for, in moto's own process: moto flattens an event once per rule on its bus (10
    here); the patch once per event, and moto once more as it delivers it to the one rule that matches (4).
    This fails with the patch uninstalled."""
    moto_speedups.install()
    flattened: list[Any] = []
    flatten = EventPattern._flatten_dict

    def counted(node: Any, prefix: str = "", result: dict[str, Any] | None = None) -> dict[str, Any]:
        if result is None:
            flattened.append(node)
        return flatten(node, prefix, result)

    monkeypatch.setattr(EventPattern, "_flatten_dict", staticmethod(counted))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # moto in this process, not the local server
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        for number in range(5):
            pattern = {"source": ["hr"], "detail": {"rule": [number]}}
            events.put_rule(Name=f"rule-{number}", EventPattern=json.dumps(pattern))
        events.put_events(Entries=[{"Source": "hr", "DetailType": "x", "Detail": '{"rule": 3}'}] * 2)

    assert len(flattened) == 2 * (1 + 1)
