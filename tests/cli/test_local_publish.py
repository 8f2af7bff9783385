"""The demo's and `run`'s publishing to the local bus: all of the events, in calls of ten, or an error."""

from __future__ import annotations

import pytest

from local_aws.deployment import LocalDeployment
from operator_cli.app import EventsRefused
from operator_cli.local import publish


def test_an_event_the_bus_refuses_fails_the_publishing_with_the_count(deployment: LocalDeployment) -> None:
    # Matched by no rule: accepted events go nowhere.
    accepted = {
        "EventBusName": deployment.event_bus_name,
        "Source": "publish.tests",
        "DetailType": "Nothing",
        "Detail": "{}",
    }
    refused = {**accepted, "Detail": "not JSON"}  # EventBridge answers MalformedDetail for this entry alone

    publish([accepted] * 10)  # one full call, nothing refused
    with pytest.raises(EventsRefused, match="refused 1 of 11 events"):
        publish([accepted] * 10 + [refused])  # the refused one in the second call
