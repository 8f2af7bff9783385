"""The AdminListDevices stand-in answers as Cognito would on a pool where no device can exist."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from deploy_check.stand_in import list_devices_answer, serving_list_devices


class FakeCognito:
    """AdminGetUser of a pool holding the given usernames."""

    def __init__(self, *usernames: str) -> None:
        self.usernames = set(usernames)

    def admin_get_user(self, *, UserPoolId: str, Username: str) -> dict[str, Any]:  # noqa: N803
        if Username not in self.usernames:
            raise ClientError(
                {
                    "Error": {"Code": "UserNotFoundException", "Message": "User does not exist."},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "AdminGetUser",
            )
        return {"Username": Username}


def test_an_existing_user_has_no_devices_and_a_missing_one_is_not_found() -> None:
    cognito = FakeCognito("jdoe")

    assert list_devices_answer(cognito, {"UserPoolId": "p", "Username": "jdoe"}) == (200, {"Devices": []})
    assert list_devices_answer(cognito, {"UserPoolId": "p", "Username": "nobody"}) == (
        400,
        {"__type": "UserNotFoundException", "message": "User does not exist."},
    )


def test_boto3_reads_the_stand_ins_answers_over_http() -> None:
    # Given the stand-in serving a pool with one user
    with serving_list_devices(FakeCognito("jdoe")) as url:
        cognito = boto3.client(
            "cognito-idp",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

        # When boto3 lists that user's devices, and another's, then Cognito's answers come back
        assert cognito.admin_list_devices(UserPoolId="p", Username="jdoe")["Devices"] == []
        with pytest.raises(cognito.exceptions.UserNotFoundException, match=r"User does not exist\."):
            cognito.admin_list_devices(UserPoolId="p", Username="nobody")

        # And any other operation is refused
        request = urllib.request.Request(
            url, data=b"{}", headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.AdminGetUser"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 400
        assert json.loads(refused.value.read())["__type"] == "InvalidAction"
