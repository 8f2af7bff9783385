"""Every action end to end: a real SQS event into the real handler, Cognito (moto over HTTP) changed or read
as the API says, and one outcome event on the bus."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.deployment import LocalDeployment
from tests.conftest import Pipeline
from tests.integration.conftest import PASSWORD

NEW_PASSWORD = "Replaced-Passw0rd!"


def get_user(cognito: Any, deployment: LocalDeployment, username: str) -> dict[str, Any]:
    return dict(cognito.admin_get_user(UserPoolId=deployment.user_pool_id, Username=username))


def attributes(cognito: Any, deployment: LocalDeployment, username: str) -> dict[str, str]:
    return {item["Name"]: item["Value"] for item in get_user(cognito, deployment, username)["UserAttributes"]}


def groups(cognito: Any, deployment: LocalDeployment, username: str) -> set[str]:
    answer = cognito.admin_list_groups_for_user(UserPoolId=deployment.user_pool_id, Username=username)
    return {group["GroupName"] for group in answer["Groups"]}


def device_keys(cognito: Any, deployment: LocalDeployment, username: str) -> list[str]:
    answer = cognito.admin_list_devices(UserPoolId=deployment.user_pool_id, Username=username)
    return [device["DeviceKey"] for device in answer["Devices"]]


def assert_succeeded(outcome: dict[str, Any]) -> dict[str, Any]:
    assert outcome["detail-type"] == "ActionSucceeded", outcome["detail"]
    assert outcome["source"] == "cognito.workers"
    result: dict[str, Any] = outcome["detail"]["result"]
    return result


def test_add_custom_attributes(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    name = unique("c")[:20]
    params = {"CustomAttributes": [{"Name": name, "AttributeDataType": "String", "Mutable": True}]}

    assert_succeeded(pipeline.run("AddCustomAttributes", params))

    schema = cognito.describe_user_pool(UserPoolId=deployment.user_pool_id)["UserPool"]["SchemaAttributes"]
    assert f"custom:{name}" in {attribute["Name"] for attribute in schema}
    # A repeat under another key is refused by Cognito, and converges: the attribute exists as asked.
    repeat = pipeline.run("AddCustomAttributes", params, idempotencyKey=unique("other-key"))
    assert repeat["detail-type"] == "ActionSkipped"
    assert repeat["detail"]["reason"] == "AlreadyApplied"


def test_add_custom_attributes_of_another_type_than_the_existing_one_is_rejected(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    name = unique("c")[:20]
    as_string = {"CustomAttributes": [{"Name": name, "AttributeDataType": "String"}]}
    assert_succeeded(pipeline.run("AddCustomAttributes", as_string))
    as_number = {"CustomAttributes": [{"Name": name, "AttributeDataType": "Number"}]}

    outcome = pipeline.run("AddCustomAttributes", as_number)

    assert outcome["detail-type"] == "ActionRejected"
    error = outcome["detail"]["error"]
    assert error["code"] == "ConflictsWithExisting"
    assert error["message"].startswith(f"custom:{name} exists as String, asked as Number")
    (dead_letter,) = [
        message
        for message in pipeline.dead_letters("AddCustomAttributes")
        if message["MessageAttributes"]["SourceMessageId"]["StringValue"] == outcome["detail"]["messageId"]
    ]
    assert json.loads(dead_letter["Body"])["params"] == as_number
    assert dead_letter["MessageAttributes"]["ErrorCode"]["StringValue"] == "ConflictsWithExisting"
    schema = cognito.describe_user_pool(UserPoolId=deployment.user_pool_id)["UserPool"]["SchemaAttributes"]
    assert [a["AttributeDataType"] for a in schema if a["Name"] == f"custom:{name}"] == ["String"]


def test_admin_add_user_to_group(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    assert_succeeded(pipeline.run("AdminAddUserToGroup", {"Username": user, "GroupName": "engineering"}))

    assert groups(cognito, deployment, user) == {"engineering"}


def test_admin_confirm_sign_up(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    username = unique("signup")
    cognito.sign_up(ClientId=deployment.app_client_id, Username=username, Password=PASSWORD)
    assert get_user(cognito, deployment, username)["UserStatus"] == "UNCONFIRMED"

    assert_succeeded(pipeline.run("AdminConfirmSignUp", {"Username": username}))

    assert get_user(cognito, deployment, username)["UserStatus"] == "CONFIRMED"


def test_admin_create_user(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, unique: Any
) -> None:
    username = unique("joiner")
    params = {
        "Username": username,
        "TemporaryPassword": PASSWORD,
        "MessageAction": "SUPPRESS",
        "UserAttributes": [{"Name": "email", "Value": f"{username}@example.com"}],
    }

    outcome = pipeline.run("AdminCreateUser", params)

    assert assert_succeeded(outcome)["User"]["Username"] == username
    assert PASSWORD not in json.dumps(outcome)
    user = get_user(cognito, deployment, username)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert attributes(cognito, deployment, username)["email"] == f"{username}@example.com"


def test_admin_delete_user(pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str) -> None:
    assert_succeeded(pipeline.run("AdminDeleteUser", {"Username": user}, idempotencyKey=f"{user}:delete"))

    with pytest.raises(ClientError, match="UserNotFoundException"):
        get_user(cognito, deployment, user)
    # Deleting a user that is gone converges: the effect already holds.
    repeat = pipeline.run("AdminDeleteUser", {"Username": user}, idempotencyKey=f"{user}:delete-again")
    assert (repeat["detail-type"], repeat["detail"]["reason"]) == ("ActionSkipped", "AlreadyApplied")


def test_admin_delete_user_attributes(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    params = {"Username": user, "UserAttributeNames": ["custom:department"]}

    assert_succeeded(pipeline.run("AdminDeleteUserAttributes", params))

    assert "custom:department" not in attributes(cognito, deployment, user)
    assert "email" in attributes(cognito, deployment, user)


def test_admin_disable_user(pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str) -> None:
    assert_succeeded(pipeline.run("AdminDisableUser", {"Username": user}))

    assert get_user(cognito, deployment, user)["Enabled"] is False


def test_admin_enable_user(pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str) -> None:
    cognito.admin_disable_user(UserPoolId=deployment.user_pool_id, Username=user)

    assert_succeeded(pipeline.run("AdminEnableUser", {"Username": user}))

    assert get_user(cognito, deployment, user)["Enabled"] is True


def test_admin_forget_device(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str, register_device: Any
) -> None:
    kept = register_device(deployment.user_pool_id, user, "Phone")
    forgotten = register_device(deployment.user_pool_id, user, "Laptop")
    params = {"Username": user, "DeviceKey": forgotten}

    assert_succeeded(pipeline.run("AdminForgetDevice", params))

    assert device_keys(cognito, deployment, user) == [kept]
    repeat = pipeline.run("AdminForgetDevice", params, idempotencyKey=f"{forgotten}:again")
    assert (repeat["detail-type"], repeat["detail"]["reason"]) == ("ActionSkipped", "AlreadyApplied")


def test_admin_get_device(
    pipeline: Pipeline, deployment: LocalDeployment, user: str, register_device: Any
) -> None:
    key = register_device(deployment.user_pool_id, user, "Laptop")

    result = assert_succeeded(pipeline.run("AdminGetDevice", {"Username": user, "DeviceKey": key}))

    assert result["Device"]["DeviceKey"] == key
    assert {"Name": "device_name", "Value": "Laptop"} in result["Device"]["DeviceAttributes"]


def test_admin_get_user(pipeline: Pipeline, user: str) -> None:
    result = assert_succeeded(pipeline.run("AdminGetUser", {"Username": user}))

    assert result["Username"] == user
    assert {"Name": "custom:department", "Value": "finance"} in result["UserAttributes"]


def test_admin_initiate_auth_redacts_tokens(
    pipeline: Pipeline, deployment: LocalDeployment, signed_in_user: str
) -> None:
    params = {
        "ClientId": deployment.app_client_id,
        "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": signed_in_user, "PASSWORD": PASSWORD},
    }

    outcome = pipeline.run("AdminInitiateAuth", params)

    result = assert_succeeded(outcome)
    assert result["AuthenticationResult"] == "**redacted**"
    assert PASSWORD not in json.dumps(outcome)


def test_admin_list_devices(
    pipeline: Pipeline, deployment: LocalDeployment, user: str, register_device: Any
) -> None:
    keys = [register_device(deployment.user_pool_id, user, name) for name in ("Phone", "Laptop")]

    result = assert_succeeded(pipeline.run("AdminListDevices", {"Username": user, "Limit": 10}))

    assert [device["DeviceKey"] for device in result["Devices"]] == keys


def test_admin_list_groups_for_user(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    cognito.admin_add_user_to_group(UserPoolId=deployment.user_pool_id, Username=user, GroupName="managers")

    result = assert_succeeded(pipeline.run("AdminListGroupsForUser", {"Username": user}))

    assert [group["GroupName"] for group in result["Groups"]] == ["managers"]


def test_admin_remove_user_from_group(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    for group in ("staff", "contractors"):
        cognito.admin_add_user_to_group(UserPoolId=deployment.user_pool_id, Username=user, GroupName=group)

    assert_succeeded(pipeline.run("AdminRemoveUserFromGroup", {"Username": user, "GroupName": "contractors"}))

    assert groups(cognito, deployment, user) == {"staff"}


def test_admin_reset_user_password(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, signed_in_user: str, delivery_counts: Any
) -> None:
    assert_succeeded(pipeline.run("AdminResetUserPassword", {"Username": signed_in_user}))

    assert get_user(cognito, deployment, signed_in_user)["UserStatus"] == "RESET_REQUIRED"
    assert delivery_counts()[(deployment.user_pool_id, signed_in_user)].password_reset_codes == 1


def test_admin_respond_to_auth_challenge(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    challenge = cognito.admin_initiate_auth(
        UserPoolId=deployment.user_pool_id,
        ClientId=deployment.app_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    params = {
        "ClientId": deployment.app_client_id,
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": challenge["Session"],
        "ChallengeResponses": {"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD},
    }

    outcome = pipeline.run("AdminRespondToAuthChallenge", params)

    assert assert_succeeded(outcome)["AuthenticationResult"] == "**redacted**"
    assert NEW_PASSWORD not in json.dumps(outcome)
    assert challenge["Session"] not in json.dumps(outcome)
    assert get_user(cognito, deployment, user)["UserStatus"] == "CONFIRMED"


def test_admin_set_user_settings(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    sms = {"DeliveryMedium": "SMS", "AttributeName": "phone_number"}

    assert_succeeded(pipeline.run("AdminSetUserSettings", {"Username": user, "MFAOptions": [sms]}))

    assert get_user(cognito, deployment, user)["MFAOptions"] == [sms]


def test_admin_update_device_status(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str, register_device: Any
) -> None:
    key = register_device(deployment.user_pool_id, user, "Laptop")
    params = {"Username": user, "DeviceKey": key, "DeviceRememberedStatus": "not_remembered"}

    assert_succeeded(pipeline.run("AdminUpdateDeviceStatus", params))

    device = cognito.admin_get_device(UserPoolId=deployment.user_pool_id, Username=user, DeviceKey=key)[
        "Device"
    ]
    assert {"Name": "dev:device_remembered_status", "Value": "not_remembered"} in device["DeviceAttributes"]


def test_admin_user_global_sign_out(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, signed_in_user: str
) -> None:
    tokens = cognito.admin_initiate_auth(
        UserPoolId=deployment.user_pool_id,
        ClientId=deployment.app_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": signed_in_user, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]

    assert_succeeded(pipeline.run("AdminUserGlobalSignOut", {"Username": signed_in_user}))

    with pytest.raises(ClientError, match="NotAuthorizedException"):
        cognito.admin_initiate_auth(
            UserPoolId=deployment.user_pool_id,
            ClientId=deployment.app_client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )


def test_admin_update_user_attributes(
    pipeline: Pipeline, cognito: Any, deployment: LocalDeployment, user: str
) -> None:
    params = {"Username": user, "UserAttributes": [{"Name": "custom:department", "Value": "legal"}]}

    assert_succeeded(pipeline.run("AdminUpdateUserAttributes", params))

    assert attributes(cognito, deployment, user)["custom:department"] == "legal"
