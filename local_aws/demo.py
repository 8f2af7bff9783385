"""The quick-start demo: one command for each of the 21 actions, through the bus, the queues and the real
handlers, against the local AWS; prints each outcome as the HR system would receive it.

Run it with `make demo` (or `python -m local_aws.demo` inside the venv).
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from local_aws.deployment import COMMAND_SOURCES, LocalDeployment, provision
from local_aws.errors import LocalAwsError
from local_aws.lambda_sqs import Handler, deliver_batch, environment_clients
from local_aws.pipeline import execution_environment, quiet_local_workers
from local_aws.server import LocalAws, start_local_aws

TEMPORARY_PASSWORD = "Welcome-2026!"
NEW_PASSWORD = "Chosen-Passw0rd!"
EMPLOYEE = "jdoe"
SELF_SERVICE_USER = "asmith"
_DETAIL_WIDTH = 72


@dataclass
class Step:
    action: str
    params: Callable[[Demo], dict[str, Any]]
    why: str


@dataclass
class Demo:
    local_aws: LocalAws
    deployment: LocalDeployment
    cognito: Any
    events: Any
    sqs: Any
    device_keys: list[str]

    def publish(self, action: str, params: dict[str, Any]) -> str:
        correlation_id = f"demo-{uuid.uuid4().hex[:8]}"
        self.events.put_events(
            Entries=[
                {
                    "EventBusName": self.deployment.event_bus_name,
                    "Source": COMMAND_SOURCES[0],
                    "DetailType": action,
                    "Detail": json.dumps({"correlationId": correlation_id, "params": params}),
                }
            ]
        )
        return correlation_id

    def outcome(self) -> dict[str, Any]:
        messages = self.sqs.receive_message(
            QueueUrl=self.deployment.outcomes_queue_url, MaxNumberOfMessages=1
        )
        (message,) = messages["Messages"]
        self.sqs.delete_message(
            QueueUrl=self.deployment.outcomes_queue_url, ReceiptHandle=message["ReceiptHandle"]
        )
        event: dict[str, Any] = json.loads(message["Body"])
        return event


def _sign_in_for_a_new_password(demo: Demo) -> dict[str, Any]:
    """What an app does before it answers NEW_PASSWORD_REQUIRED: sign in with the temporary password."""
    challenge = demo.cognito.admin_initiate_auth(
        UserPoolId=demo.deployment.user_pool_id,
        ClientId=demo.deployment.app_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": EMPLOYEE, "PASSWORD": TEMPORARY_PASSWORD},
    )
    return {
        "ClientId": demo.deployment.app_client_id,
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": challenge["Session"],
        "ChallengeResponses": {"USERNAME": EMPLOYEE, "NEW_PASSWORD": NEW_PASSWORD},
    }


def _self_service_sign_up(demo: Demo) -> dict[str, Any]:
    demo.cognito.sign_up(
        ClientId=demo.deployment.app_client_id, Username=SELF_SERVICE_USER, Password=NEW_PASSWORD
    )
    return {"Username": SELF_SERVICE_USER}


def _give_devices(demo: Demo) -> dict[str, Any]:
    demo.device_keys = [
        demo.local_aws.register_device(demo.deployment.user_pool_id, EMPLOYEE, name)
        for name in ("Phone", "Laptop")
    ]
    return {"Username": EMPLOYEE}


def _device(index: int, **extra: Any) -> Callable[[Demo], dict[str, Any]]:
    return lambda demo: {"Username": EMPLOYEE, "DeviceKey": demo.device_keys[index], **extra}


def _user(**extra: Any) -> Callable[[Demo], dict[str, Any]]:
    return lambda demo: {"Username": EMPLOYEE, **extra}


STEPS = (
    Step(
        "AddCustomAttributes",
        lambda demo: {
            "CustomAttributes": [{"Name": "cost_center", "AttributeDataType": "String", "Mutable": True}]
        },
        "the pool learns custom:cost_center",
    ),
    Step(
        "AdminCreateUser",
        _user(
            TemporaryPassword=TEMPORARY_PASSWORD,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": "jdoe@example.com"},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "custom:department", "Value": "engineering"},
            ],
        ),
        "joiner jdoe (temporary password kept out)",
    ),
    Step("AdminAddUserToGroup", _user(GroupName="engineering"), "jdoe joins engineering"),
    Step("AdminListGroupsForUser", _user(), "reads the groups"),
    Step(
        "AdminUpdateUserAttributes",
        _user(UserAttributes=[{"Name": "custom:department", "Value": "platform"}]),
        "mover: department becomes platform",
    ),
    Step("AdminGetUser", _user(), "reads the user"),
    Step(
        "AdminRespondToAuthChallenge", _sign_in_for_a_new_password, "jdoe sets a password (session redacted)"
    ),
    Step(
        "AdminInitiateAuth",
        lambda demo: {
            "ClientId": demo.deployment.app_client_id,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": EMPLOYEE, "PASSWORD": NEW_PASSWORD},
        },
        "jdoe signs in (tokens redacted)",
    ),
    Step(
        "AdminSetUserSettings",
        _user(MFAOptions=[{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]),
        "SMS MFA on (deprecated API, still served)",
    ),
    Step("AdminConfirmSignUp", _self_service_sign_up, "asmith signed up in the app; an admin confirms"),
    Step("AdminListDevices", _give_devices, "jdoe has a phone and a laptop"),
    Step("AdminGetDevice", _device(0), "reads the phone"),
    Step(
        "AdminUpdateDeviceStatus",
        _device(0, DeviceRememberedStatus="not_remembered"),
        "phone: not remembered",
    ),
    Step("AdminResetUserPassword", _user(), "a reset code is sent"),
    Step("AdminDeleteUserAttributes", _user(UserAttributeNames=["custom:department"]), "department cleared"),
    Step("AdminDisableUser", _user(), "leaver: locked out first"),
    Step("AdminUserGlobalSignOut", _user(), "every session revoked"),
    Step("AdminRemoveUserFromGroup", _user(GroupName="engineering"), "leaves engineering"),
    Step("AdminForgetDevice", _device(1), "the laptop is forgotten"),
    Step("AdminEnableUser", _user(), "rehire: enabled again"),
    Step("AdminDeleteUser", _user(), "finally deleted"),
)


def _summary(outcome: dict[str, Any]) -> str:
    detail = outcome["detail"]
    if detail.get("error"):
        return f"{detail['error']['code']}: {detail['error']['message']}"
    if detail.get("reason"):
        return str(detail["reason"])
    result = detail.get("result") or {}
    text = ", ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value)}" for key, value in result.items()
    )
    return (text if len(text) <= _DETAIL_WIDTH else text[: _DETAIL_WIDTH - 3] + "...") or "-"


def run_tour(
    aws: LocalAws, deployment: LocalDeployment
) -> Iterator[tuple[Step, dict[str, Any], dict[str, Any]]]:
    """Each step's command through the bus, its queue and its function (one execution environment per
    function, as the template declares it), in order: the step, the params it sent and its outcome event."""
    demo = Demo(
        local_aws=aws,
        deployment=deployment,
        cognito=boto3.client("cognito-idp"),
        events=boto3.client("events"),
        sqs=boto3.client("sqs"),
        device_keys=[],
    )
    environments: dict[str, Handler] = {}
    for step in STEPS:
        params = step.params(demo)
        demo.publish(step.action, params)
        function = deployment.functions[step.action]
        if step.action not in environments:
            environments[step.action] = execution_environment(function)
        deliver_batch(
            environments[step.action],
            environment_clients(function.function_name).sqs,  # Lambda's poller uses the function's role
            queue_url=function.queue.url,
            queue_arn=function.queue.arn,
            function_name=function.function_name,
        )
        yield step, params, demo.outcome()


def main() -> None:
    quiet_local_workers("WARNING")
    started = time.perf_counter()
    try:
        counts = _tour()
    except LocalAwsError as error:
        sys.exit(f"error: {error}")
    actions = {step.action for step in STEPS}
    elapsed = time.perf_counter() - started
    print(
        f"\n{len(STEPS)} commands over {len(actions)} actions, {sum(counts.values())} outcomes "
        f"({', '.join(f'{count} {kind}' for kind, count in sorted(counts.items()))}) in {elapsed:.1f} s"
    )


def _tour() -> Counter[str]:
    """The tour on a fresh local AWS, printed as it goes; the outcomes by kind."""
    with start_local_aws() as aws:
        aws.export_environment()
        deployment = provision(aws.endpoint_url, aws.region)
        print(f"Local AWS at {aws.endpoint_url}; user pool {deployment.user_pool_id}")
        print(f"The stack's synthesized template, with local edits: {'; '.join(deployment.edits)}")
        print(f"{'#':>2}  {'action':<28} {'outcome':<16} {'what happened':<44} detail")
        counts: Counter[str] = Counter()
        for number, (step, _, outcome) in enumerate(run_tour(aws, deployment), start=1):
            kind = outcome["detail-type"]
            counts[kind] += 1
            print(f"{number:>2}  {step.action:<28} {kind:<16} {step.why:<44} {_summary(outcome)}")
    return counts


if __name__ == "__main__":
    main()
