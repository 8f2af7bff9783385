"""The lifecycle table's conditional writes, on the local DynamoDB: a state saved with its outbox in one
write, a stale write refused, and the outbox removed only by the transition that wrote it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from cognito_workers.lifecycle.state import Effects, PersonState
from cognito_workers.lifecycle.store import LifecycleStore, VersionConflict
from local_aws.deployment import LocalDeployment


@pytest.fixture
def store(deployment: LocalDeployment) -> LifecycleStore:
    return LifecycleStore(boto3.client("dynamodb"), deployment.lifecycle_table_name)


def test_the_state_and_its_outbox_are_one_write(store: LifecycleStore, unique: Any) -> None:
    person = unique("store")
    outbox = Effects(cancel_scheduled_delete=True)

    version = store.save(PersonState(username=person), 0, outbox)

    saved = store.load(person)
    assert (saved.version, saved.outbox) == (version, outbox)
    with pytest.raises(VersionConflict):
        store.save(PersonState(username=person), 0, None)  # a write from a stale read


def test_the_outbox_is_removed_only_by_the_write_that_made_it(store: LifecycleStore, unique: Any) -> None:
    person = unique("store")
    first = store.save(PersonState(username=person), 0, Effects(now_held=True))
    second = store.save(PersonState(username=person), first, Effects(now_released=True))

    store.clear_outbox(person, first)  # published late: a later write has its own outbox
    assert store.load(person).outbox == Effects(now_released=True)
    store.clear_outbox(person, second)
    assert store.load(person).outbox is None
