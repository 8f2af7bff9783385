"""The Cognito operations local_aws adds to moto, exercised over HTTP against the local server."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from local_aws import cognito_extensions
from local_aws.cognito_extensions import DeliveryCounts
from local_aws.server import LocalAws, LocalToolingError, start_local_aws
from tests.local_aws.shapes import call

REGION = "us-east-1"
TEMPORARY_PASSWORD = "Temp-Passw0rd!"
PASSWORD = "Final-Passw0rd!"
SMS = {"DeliveryMedium": "SMS", "AttributeName": "phone_number"}
UNKNOWN_POOL_ID = f"{REGION}_Missing0"
UNKNOWN_DEVICE_KEY = f"{REGION}_00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    """A server of the module's own: its delivery counts see only this module's calls."""
    with start_local_aws(region=REGION) as aws:
        yield aws


@pytest.fixture(scope="module")
def cognito(aws: LocalAws) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def register_device(aws: LocalAws) -> Callable[[str, str, str], str]:
    return aws.register_device


@pytest.fixture
def delivery_counts(aws: LocalAws) -> Callable[[], dict[tuple[str, str], DeliveryCounts]]:
    return aws.delivery_counts


@pytest.fixture
def reset_delivery_counts(aws: LocalAws) -> Callable[[], None]:
    return aws.reset_delivery_counts


@pytest.fixture(scope="module")
def pool_id(cognito: Any) -> str:
    # One pool for the module (moto takes ~0.2 s to make one); every test gets users of its own.
    return str(cognito.create_user_pool(PoolName="extensions")["UserPool"]["Id"])


@pytest.fixture
def username(cognito: Any, pool_id: str) -> str:
    name = unique("jdoe")
    cognito.admin_create_user(
        UserPoolId=pool_id, Username=name, TemporaryPassword=TEMPORARY_PASSWORD, MessageAction="SUPPRESS"
    )
    return name


@pytest.fixture
def device_key(pool_id: str, username: str, register_device: Any) -> str:
    return register_device(pool_id, username, "Work laptop")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_code(operation: Callable[..., Any], **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        operation(**params)
    return str(caught.value.response["Error"]["Code"])


def attributes(device: dict[str, Any]) -> dict[str, str]:
    return {attribute["Name"]: attribute["Value"] for attribute in device["DeviceAttributes"]}


def device_keys(cognito: Any, pool_id: str, username: str) -> list[str]:
    devices = call(cognito, "AdminListDevices", UserPoolId=pool_id, Username=username)["Devices"]
    return [device["DeviceKey"] for device in devices]


def sign_in(cognito: Any, pool_id: str, username: str, password: str) -> dict[str, Any]:
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    return dict(
        cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    )


def access_token(cognito: Any, pool_id: str, username: str) -> str:
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
    return str(sign_in(cognito, pool_id, username, PASSWORD)["AuthenticationResult"]["AccessToken"])


# Devices


def test_register_device_gives_the_user_a_remembered_device(
    cognito: Any, pool_id: str, username: str, device_key: str
) -> None:
    key_pattern = cognito.meta.service_model.shape_for("DeviceKeyType").metadata["pattern"]
    assert re.fullmatch(key_pattern, device_key)
    assert device_key.startswith(f"{REGION}_")

    device = call(cognito, "AdminGetDevice", UserPoolId=pool_id, Username=username, DeviceKey=device_key)[
        "Device"
    ]

    assert device["DeviceKey"] == device_key
    assert attributes(device)["device_name"] == "Work laptop"
    assert attributes(device)["dev:device_remembered_status"] == "remembered"
    dates = {
        device[name] for name in ("DeviceCreateDate", "DeviceLastModifiedDate", "DeviceLastAuthenticatedDate")
    }
    assert len(dates) == 1


def test_register_device_for_an_unknown_user_raises_user_not_found(
    pool_id: str, register_device: Any
) -> None:
    with pytest.raises(LocalToolingError) as refusal:
        register_device(pool_id, "nobody", "Phone")

    assert refusal.value.code == "UserNotFoundException"


def test_admin_list_devices_pages_in_creation_order(
    cognito: Any, pool_id: str, username: str, register_device: Any
) -> None:
    keys = [register_device(pool_id, username, f"Device {number}") for number in range(3)]

    first = call(cognito, "AdminListDevices", UserPoolId=pool_id, Username=username, Limit=2)
    second = call(
        cognito,
        "AdminListDevices",
        UserPoolId=pool_id,
        Username=username,
        Limit=2,
        PaginationToken=first["PaginationToken"],
    )

    assert [device["DeviceKey"] for device in first["Devices"]] == keys[:2]
    assert [device["DeviceKey"] for device in second["Devices"]] == keys[2:]
    assert "PaginationToken" not in second


@pytest.mark.parametrize("paging", [{"Limit": 61}, {"PaginationToken": "not-a-token"}])
def test_admin_list_devices_rejects_bad_paging(
    cognito: Any, pool_id: str, username: str, device_key: str, paging: dict[str, Any]
) -> None:
    code = error_code(cognito.admin_list_devices, UserPoolId=pool_id, Username=username, **paging)
    assert code == "InvalidParameterException"


def test_admin_forget_device_forgets_it_once(
    cognito: Any, pool_id: str, username: str, device_key: str
) -> None:
    call(cognito, "AdminForgetDevice", UserPoolId=pool_id, Username=username, DeviceKey=device_key)

    assert device_keys(cognito, pool_id, username) == []
    code = error_code(
        cognito.admin_forget_device, UserPoolId=pool_id, Username=username, DeviceKey=device_key
    )
    assert code == "ResourceNotFoundException"


def test_admin_update_device_status_sets_the_remembered_status(
    cognito: Any, pool_id: str, username: str, device_key: str
) -> None:
    device_id = {"UserPoolId": pool_id, "Username": username, "DeviceKey": device_key}

    call(cognito, "AdminUpdateDeviceStatus", **device_id, DeviceRememberedStatus="not_remembered")

    device = call(cognito, "AdminGetDevice", **device_id)["Device"]
    assert attributes(device)["dev:device_remembered_status"] == "not_remembered"
    assert device["DeviceLastModifiedDate"] >= device["DeviceCreateDate"]


def test_admin_update_device_status_rejects_an_unknown_status(
    cognito: Any, pool_id: str, username: str, device_key: str
) -> None:
    code = error_code(
        cognito.admin_update_device_status,
        UserPoolId=pool_id,
        Username=username,
        DeviceKey=device_key,
        DeviceRememberedStatus="forgotten",
    )
    assert code == "InvalidParameterException"


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("admin_get_device", {}),
        ("admin_forget_device", {}),
        ("admin_update_device_status", {"DeviceRememberedStatus": "remembered"}),
    ],
)
def test_an_unknown_device_is_resource_not_found(
    cognito: Any, pool_id: str, username: str, device_key: str, operation: str, params: dict[str, str]
) -> None:
    code = error_code(
        getattr(cognito, operation),
        UserPoolId=pool_id,
        Username=username,
        DeviceKey=UNKNOWN_DEVICE_KEY,
        **params,
    )
    assert code == "ResourceNotFoundException"


USER_OPERATIONS: dict[str, dict[str, Any]] = {
    "admin_list_devices": {},
    "admin_get_device": {"DeviceKey": UNKNOWN_DEVICE_KEY},
    "admin_forget_device": {"DeviceKey": UNKNOWN_DEVICE_KEY},
    "admin_update_device_status": {"DeviceKey": UNKNOWN_DEVICE_KEY, "DeviceRememberedStatus": "remembered"},
    "admin_set_user_settings": {"MFAOptions": []},
}


@pytest.mark.parametrize("operation", USER_OPERATIONS)
@pytest.mark.parametrize(
    ("missing", "expected_code"), [("pool", "ResourceNotFoundException"), ("user", "UserNotFoundException")]
)
def test_an_unknown_pool_or_user_is_reported(
    cognito: Any, pool_id: str, username: str, operation: str, missing: str, expected_code: str
) -> None:
    target = {"UserPoolId": UNKNOWN_POOL_ID, "Username": username}
    if missing == "user":
        target = {"UserPoolId": pool_id, "Username": "nobody"}

    code = error_code(getattr(cognito, operation), **target, **USER_OPERATIONS[operation])

    assert code == expected_code


def test_deleting_a_user_removes_its_devices(
    cognito: Any, pool_id: str, username: str, device_key: str
) -> None:
    cognito.admin_delete_user(UserPoolId=pool_id, Username=username)

    code = error_code(cognito.admin_list_devices, UserPoolId=pool_id, Username=username)
    cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")

    assert code == "UserNotFoundException"
    assert device_keys(cognito, pool_id, username) == []


# ConfirmDevice


def test_confirm_device_gives_the_signed_in_user_a_remembered_device(
    cognito: Any, pool_id: str, username: str
) -> None:
    key = f"{REGION}_{uuid.uuid4()}"

    answer = call(
        cognito,
        "ConfirmDevice",
        AccessToken=access_token(cognito, pool_id, username),
        DeviceKey=key,
        DeviceName="Phone",
        DeviceSecretVerifierConfig={"PasswordVerifier": "dmVyaWZpZXI=", "Salt": "c2FsdA=="},
    )

    assert answer == {"UserConfirmationNecessary": False}
    device = call(cognito, "AdminGetDevice", UserPoolId=pool_id, Username=username, DeviceKey=key)["Device"]
    assert attributes(device)["device_name"] == "Phone"
    assert attributes(device)["dev:device_remembered_status"] == "remembered"


def test_confirm_device_leaves_remembering_to_the_user_when_the_pool_asks(cognito: Any) -> None:
    pool_id = cognito.create_user_pool(
        PoolName="prompted",
        DeviceConfiguration={"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True},
    )["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool_id, Username="jdoe", MessageAction="SUPPRESS")
    key = f"{REGION}_{uuid.uuid4()}"

    answer = call(cognito, "ConfirmDevice", AccessToken=access_token(cognito, pool_id, "jdoe"), DeviceKey=key)

    assert answer == {"UserConfirmationNecessary": True}
    device = call(cognito, "AdminGetDevice", UserPoolId=pool_id, Username="jdoe", DeviceKey=key)["Device"]
    assert attributes(device)["dev:device_remembered_status"] == "not_remembered"


def test_confirm_device_twice_is_device_key_exists(cognito: Any, pool_id: str, username: str) -> None:
    token = access_token(cognito, pool_id, username)
    key = f"{REGION}_{uuid.uuid4()}"
    call(cognito, "ConfirmDevice", AccessToken=token, DeviceKey=key, DeviceName="Phone")

    assert error_code(cognito.confirm_device, AccessToken=token, DeviceKey=key) == "DeviceKeyExistsException"
    assert device_keys(cognito, pool_id, username) == [key]


@pytest.mark.parametrize(
    ("valid_token", "key", "expected_code"),
    [
        (False, f"{REGION}_0f8fad5b-d9cb-469f-a165-70867728950e", "NotAuthorizedException"),
        (True, "no-underscore", "InvalidParameterException"),
        (True, f"{REGION}_NOT-HEX", "InvalidParameterException"),
    ],
)
def test_confirm_device_rejects_bad_input(
    cognito: Any, pool_id: str, username: str, valid_token: bool, key: str, expected_code: str
) -> None:
    token = access_token(cognito, pool_id, username) if valid_token else "not-a-token"

    assert error_code(cognito.confirm_device, AccessToken=token, DeviceKey=key) == expected_code


# AdminSetUserSettings


def test_admin_set_user_settings_turns_sms_mfa_on_and_off(cognito: Any, pool_id: str, username: str) -> None:
    user_id = {"UserPoolId": pool_id, "Username": username}

    call(cognito, "AdminSetUserSettings", **user_id, MFAOptions=[SMS])
    enabled = call(cognito, "AdminGetUser", **user_id)
    call(cognito, "AdminSetUserSettings", **user_id, MFAOptions=[])
    disabled = call(cognito, "AdminGetUser", **user_id)

    assert enabled["MFAOptions"] == [SMS]
    assert "SMS_MFA" in enabled["UserMFASettingList"]
    assert disabled["MFAOptions"] == []
    assert "SMS_MFA" not in disabled["UserMFASettingList"]


def test_admin_set_user_settings_rejects_email_delivery(cognito: Any, pool_id: str, username: str) -> None:
    code = error_code(
        cognito.admin_set_user_settings,
        UserPoolId=pool_id,
        Username=username,
        MFAOptions=[{"DeliveryMedium": "EMAIL", "AttributeName": "email"}],
    )
    assert code == "InvalidParameterException"


# AdminCreateUser with MessageAction=RESEND


def test_resend_keeps_the_user_and_resets_its_temporary_password(
    cognito: Any, pool_id: str, username: str, device_key: str
) -> None:
    cognito.create_group(UserPoolId=pool_id, GroupName="staff")
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName="staff")
    attributes_before = cognito.admin_get_user(UserPoolId=pool_id, Username=username)["UserAttributes"]

    answer = call(
        cognito,
        "AdminCreateUser",
        UserPoolId=pool_id,
        Username=username,
        MessageAction="RESEND",
        TemporaryPassword="Resent-Passw0rd!",
    )

    assert answer["User"]["Attributes"] == attributes_before  # the same sub, so the same user
    assert answer["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]
    assert [group["GroupName"] for group in groups] == ["staff"]
    assert device_keys(cognito, pool_id, username) == [device_key]
    assert sign_in(cognito, pool_id, username, "Resent-Passw0rd!")["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    old_password_code = error_code(
        sign_in, cognito=cognito, pool_id=pool_id, username=username, password=TEMPORARY_PASSWORD
    )
    assert old_password_code == "NotAuthorizedException"


def test_resend_without_a_temporary_password_generates_one(cognito: Any, pool_id: str, username: str) -> None:
    call(cognito, "AdminCreateUser", UserPoolId=pool_id, Username=username, MessageAction="RESEND")

    old_password_code = error_code(
        sign_in, cognito=cognito, pool_id=pool_id, username=username, password=TEMPORARY_PASSWORD
    )
    assert old_password_code == "NotAuthorizedException"


def test_resend_to_an_unknown_user_is_user_not_found(cognito: Any, pool_id: str) -> None:
    code = error_code(
        cognito.admin_create_user, UserPoolId=pool_id, Username="nobody", MessageAction="RESEND"
    )
    assert code == "UserNotFoundException"


def test_resend_to_a_confirmed_user_is_unsupported(cognito: Any, pool_id: str, username: str) -> None:
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)

    code = error_code(
        cognito.admin_create_user, UserPoolId=pool_id, Username=username, MessageAction="RESEND"
    )

    assert code == "UnsupportedUserStateException"


def test_create_without_resend_keeps_moto_behaviour(cognito: Any, pool_id: str, username: str) -> None:
    code = error_code(cognito.admin_create_user, UserPoolId=pool_id, Username=username)
    assert code == "UsernameExistsException"


# Delivery counts


def test_delivery_counts_count_invitations_and_reset_codes(
    cognito: Any, pool_id: str, delivery_counts: Any
) -> None:
    ann, bob = unique("ann"), unique("bob")
    cognito.admin_create_user(UserPoolId=pool_id, Username=ann)
    cognito.admin_create_user(UserPoolId=pool_id, Username=ann, MessageAction="RESEND")
    assert (
        error_code(cognito.admin_create_user, UserPoolId=pool_id, Username=ann) == "UsernameExistsException"
    )
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=bob,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": f"{bob}@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=bob, Password=PASSWORD, Permanent=True)
    for _ in range(2):
        cognito.admin_reset_user_password(UserPoolId=pool_id, Username=bob)

    counts = delivery_counts()

    assert counts[(pool_id, ann)] == DeliveryCounts(invitations=2, password_reset_codes=0)
    assert counts[(pool_id, bob)] == DeliveryCounts(invitations=0, password_reset_codes=2)


def test_reset_delivery_counts_forgets_them(
    cognito: Any, pool_id: str, delivery_counts: Any, reset_delivery_counts: Any
) -> None:
    ann = unique("ann")
    cognito.admin_create_user(UserPoolId=pool_id, Username=ann)

    reset_delivery_counts()

    assert delivery_counts() == {}


def test_install_again_does_not_wrap_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, under moto's mock: installing twice must not count one invitation twice."""
    # Else the client would call the suite's server, not the mock (when the suite has started one).
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    cognito_extensions.install()
    cognito_extensions.install()
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool_id = cognito.create_user_pool(PoolName="twice")["UserPool"]["Id"]
        cognito.admin_create_user(UserPoolId=pool_id, Username="ann")

        assert cognito_extensions.delivery_counts()[(pool_id, "ann")].invitations == 1
