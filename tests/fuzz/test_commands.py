"""Fuzzed commands for every action, in both delivery shapes: each is accepted as sent or rejected naming the
field and the reason; in a batch, bad records never fail their valid siblings and apply nothing."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from cognito_workers.consumer import Delivery
from cognito_workers.errors import CommandRejected
from cognito_workers.worker import ActionWorker
from local_aws.deployment import SANDBOX_GROUPS, LocalDeployment
from tests.conftest import Pipeline
from tests.fuzz.conftest import HANDLER_EXAMPLES
from tests.fuzz.delivery import (
    assert_rejected_as_foreseen,
    assert_rejected_once,
    dead_letters,
    deliver,
    lambda_record,
    outcome_of,
    outcomes_by_message,
    sent_params,
    sqs_can_carry,
    unique,
)
from tests.fuzz.strategies import ACTION_NAMES, VISIBLE_INJECTIONS, command_cases


@given(data=st.data())
def test_a_command_is_accepted_as_sent_or_rejected_naming_the_field(
    data: st.DataObject,
    fuzz_deployment: LocalDeployment,
    workers: Callable[[str], ActionWorker],
    cases: Counter[str],
) -> None:
    case = data.draw(command_cases(fuzz_deployment.user_pool_id))
    cases["command, parsed"] += 1
    worker = workers(case.queue)
    delivery = Delivery(record=lambda_record(case.body, fuzz_deployment.queues[case.queue]))

    # The worker's validation step alone: what the handler runs before any AWS call.
    parsed = outcome_of(lambda: worker._parse(delivery, worker.consumer.configured_settings()))

    if isinstance(parsed, CommandRejected):
        assert_rejected_as_foreseen(parsed, case)
    else:
        assert case.expect != "reject", case
        # Accepted as sent: nothing coerced, dropped or added but the default pool.
        pool = {"UserPoolId": fuzz_deployment.user_pool_id}
        assert parsed.model_dump(mode="json", exclude_unset=True) == {**pool, **sent_params(case.body)}


# Valid commands that succeed (or converge) on the fuzz deployment's pool, given a new username and an
# existing user's.
SIBLINGS: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "AdminCreateUser": lambda new, _: {"Username": new, "MessageAction": "SUPPRESS"},
    "AdminDeleteUser": lambda new, _: {"Username": new},
    "AdminGetUser": lambda _, user: {"Username": user},
    "AdminDisableUser": lambda _, user: {"Username": user},
    "AdminEnableUser": lambda _, user: {"Username": user},
    "AdminUserGlobalSignOut": lambda _, user: {"Username": user},
    "AdminListGroupsForUser": lambda _, user: {"Username": user},
    "AdminListDevices": lambda _, user: {"Username": user},
    "AdminAddUserToGroup": lambda _, user: {"Username": user, "GroupName": SANDBOX_GROUPS[0]},
    "AdminRemoveUserFromGroup": lambda _, user: {"Username": user, "GroupName": SANDBOX_GROUPS[0]},
    "AdminUpdateUserAttributes": lambda new, user: {
        "Username": user,
        "UserAttributes": [{"Name": "nickname", "Value": new}],
    },
}


@settings(max_examples=HANDLER_EXAMPLES)
@given(data=st.data())
def test_bad_commands_in_a_batch_are_rejected_alone_and_apply_nothing(
    data: st.DataObject,
    fuzz_deployment: LocalDeployment,
    fuzz_pipeline: Pipeline,
    workers: Callable[[str], ActionWorker],
    cognito_calls: list[dict[str, Any]],
    existing_user: str,
    cognito: Any,
    cases: Counter[str],
) -> None:
    action = data.draw(st.sampled_from(ACTION_NAMES))
    bad = data.draw(
        st.lists(
            command_cases(fuzz_deployment.user_pool_id, valid=False, actions=(action,)).filter(
                lambda case: case.expect == "reject" and sqs_can_carry(case.body)
            ),
            min_size=1,
            max_size=6,
        )
    )
    # Injection-looking, yet valid, usernames; unique ones keep the examples apart.
    names = data.draw(st.lists(st.sampled_from(VISIBLE_INJECTIONS), max_size=3 if action in SIBLINGS else 0))
    siblings: list[dict[str, Any]] = [
        {
            "action": action,
            "idempotencyKey": unique("fuzz"),
            "params": SIBLINGS[action](unique(name), existing_user),
        }
        for name in names
    ]
    order = data.draw(st.permutations(range(len(bad) + len(siblings))))
    bodies = [*(case.body for case in bad), *(json.dumps(sibling) for sibling in siblings)]
    cases["command, in a batch"] += len(bad)
    cognito_calls.clear()

    report, ids = deliver(
        fuzz_pipeline, fuzz_deployment.queues[action], workers(action).handler, [bodies[i] for i in order]
    )

    assert report.failed_message_ids == ()
    message_ids = dict(zip(order, ids, strict=True))
    outcomes = outcomes_by_message(fuzz_pipeline)
    dead = dead_letters(fuzz_pipeline, fuzz_deployment.queues[action].dead_letter_url)
    for index, case in enumerate(bad):
        assert_rejected_once(
            case, outcomes.pop(message_ids[index], []), dead.pop(message_ids[index], None), "ActionRejected"
        )
    for index in range(len(bad), len(bad) + len(siblings)):
        (outcome,) = outcomes.pop(message_ids[index])
        assert outcome["detail-type"] in ("ActionSucceeded", "ActionSkipped"), outcome
    assert (outcomes, dead) == ({}, {})
    # Nothing of a rejected command reached Cognito: only the valid siblings called it, once each.
    assert sorted(call["Username"] for call in cognito_calls) == sorted(
        s["params"]["Username"] for s in siblings
    )
    if action == "AdminCreateUser":
        for username in {case.username for case in bad if case.username and len(case.username) <= 128}:
            with pytest.raises(ClientError, match=r"UserNotFoundException|InvalidParameterException"):
                cognito.admin_get_user(UserPoolId=fuzz_deployment.user_pool_id, Username=username)
