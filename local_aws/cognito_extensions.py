"""Fill moto's Cognito gaps in-process: devices, AdminSetUserSettings, a faithful RESEND, delivery counts.

moto 5.2.5 answers HTTP 500 to the device operations and AdminSetUserSettings, and its
AdminCreateUser(MessageAction=RESEND) replaces the user. ``install()`` patches moto's Cognito classes
(``local_aws.server.start_local_aws`` calls it; calling it again changes nothing), so the fixes serve
moto's server and ``mock_aws`` alike. What it adds:

* AdminListDevices (creation order; Limit 1-60, 0 or absent means 60; PaginationToken), AdminGetDevice,
  AdminForgetDevice, AdminUpdateDeviceStatus and ConfirmDevice. An unknown pool answers
  ResourceNotFoundException, an unknown user UserNotFoundException, an unknown device
  ResourceNotFoundException, a bad Limit, token, status or DeviceKey InvalidParameterException.
* AdminSetUserSettings: ``MFAOptions=[{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]`` turns
  the user's SMS MFA on, ``[]`` turns it off (any other option: InvalidParameterException). The
  MFAOptions of AdminGetUser, ListUsers and GetUser mirror the user's SMS MFA flag.
* AdminCreateUser with MessageAction=RESEND keeps the user (sub, attributes, groups, devices) and gives it
  a new temporary password (TemporaryPassword, or a generated one). As in Cognito, the user must exist
  (UserNotFoundException) and still be in FORCE_CHANGE_PASSWORD (UnsupportedUserStateException).
* ``delivery_counts()``: invitations (AdminCreateUser without SUPPRESS, RESEND) and password-reset codes
  (AdminResetUserPassword) sent per (pool id, username), for audits of effects Cognito does not
  deduplicate; ``reset_delivery_counts()`` zeroes them. Only successful calls count.

Giving a user a device locally:

* Over the API, as a device does: sign the user in (e.g. AdminInitiateAuth with ADMIN_USER_PASSWORD_AUTH),
  then call ConfirmDevice with the AccessToken, a DeviceKey of the form ``f"{region}_{uuid.uuid4()}"``
  (moto's sign-in returns no NewDeviceMetadata, so the caller picks the key) and a DeviceName.
  DeviceSecretVerifierConfig is accepted and ignored. The device is remembered, unless the pool's
  DeviceConfiguration has DeviceOnlyRememberedOnUserPrompt: then it is not_remembered and the answer says
  UserConfirmationNecessary. Confirming a known key again answers DeviceKeyExistsException.
* In the server's process: ``register_device(pool_id, username, "Work laptop")`` returns the new
  DeviceKey; other processes ask the server (``LocalAws.register_device``).

Devices belong to moto's user object: deleting the user (or resetting moto) drops them, a user created
again under the same name starts with none, and everything else, RESEND included, keeps them.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError
from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    UserStatus,
    cognitoidp_backends,
    find_account_region_by_value,
)
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

MAX_DEVICES_PER_PAGE = 60
REMEMBERED_STATUS_ATTRIBUTE = "dev:device_remembered_status"
REMEMBERED = "remembered"
NOT_REMEMBERED = "not_remembered"
SMS_MFA_OPTION = {"DeliveryMedium": "SMS", "AttributeName": "phone_number"}
# botocore's DeviceKeyType: pattern and maximum length.
_DEVICE_KEY = re.compile(r"[\w-]+_[0-9a-f-]+")
_DEVICE_KEY_MAX_LENGTH = 55


class DeviceKeyExistsError(JsonRESTError):
    def __init__(self, device_key: str) -> None:
        super().__init__("DeviceKeyExistsException", f"Device {device_key} has already been confirmed.")


class UnsupportedUserStateError(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("UnsupportedUserStateException", message)


@dataclass
class _Device:
    key: str
    name: str | None
    remembered: bool
    created: datetime
    last_modified: datetime
    last_authenticated: datetime

    def to_json(self) -> dict[str, Any]:
        """DeviceType; moto's serializer turns the datetimes into epoch seconds."""
        attributes = [{"Name": "device_status", "Value": "valid"}]
        if self.name:
            attributes.append({"Name": "device_name", "Value": self.name})
        status = REMEMBERED if self.remembered else NOT_REMEMBERED
        attributes.append({"Name": REMEMBERED_STATUS_ATTRIBUTE, "Value": status})
        return {
            "DeviceKey": self.key,
            "DeviceAttributes": attributes,
            "DeviceCreateDate": self.created,
            "DeviceLastModifiedDate": self.last_modified,
            "DeviceLastAuthenticatedDate": self.last_authenticated,
        }


# Keyed by moto's user object itself, so the devices share the user's lifetime (see the module docstring).
_devices: weakref.WeakKeyDictionary[CognitoIdpUser, dict[str, _Device]] = weakref.WeakKeyDictionary()

_counts_lock = threading.Lock()
_invitations: Counter[tuple[str, str]] = Counter()
_password_reset_codes: Counter[tuple[str, str]] = Counter()


@dataclass(frozen=True)
class DeliveryCounts:
    invitations: int
    password_reset_codes: int


def delivery_counts() -> dict[tuple[str, str], DeliveryCounts]:
    """Messages sent so far, per (user pool id, username); the username is moto's internal one."""
    with _counts_lock:
        keys = _invitations.keys() | _password_reset_codes.keys()
        return {key: DeliveryCounts(_invitations[key], _password_reset_codes[key]) for key in keys}


def reset_delivery_counts() -> None:
    with _counts_lock:
        _invitations.clear()
        _password_reset_codes.clear()


def _count(counter: Counter[tuple[str, str]], user_pool_id: str, username: str) -> None:
    with _counts_lock:
        counter[(user_pool_id, username)] += 1


def register_device(
    user_pool_id: str,
    username: str,
    device_name: str,
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
    remembered: bool = True,
) -> str:
    """Give a user a confirmed device in this process's moto state and return its DeviceKey.

    Raises moto's ResourceNotFoundError (unknown pool) or UserNotFoundError (unknown user).
    """
    region = user_pool_id.split("_", 1)[0]  # a pool id starts with its region
    user = cognitoidp_backends[account_id][region].admin_get_user(user_pool_id, username)
    return _add_device(user, f"{region}_{uuid.uuid4()}", device_name, remembered=remembered).key


def seed_users(
    user_pool_id: str, users: list[dict[str, Any]], *, account_id: str = DEFAULT_ACCOUNT_ID
) -> int:
    """Put users straight into this process's moto store, with their attributes, groups and enabled flag: a
    benchmark's set-up of 100,000 users, which AdminCreateUser and AdminAddUserToGroup over HTTP would take
    minutes to make. Nothing else uses it. Raises moto's ResourceNotFoundError for an unknown pool or
    group."""
    backend = cognitoidp_backends[account_id][user_pool_id.split("_", 1)[0]]
    pool = backend.describe_user_pool(user_pool_id)
    for seeded in users:
        attributes = [{"Name": name, "Value": value} for name, value in seeded["attributes"].items()]
        user = CognitoIdpUser(user_pool_id, seeded["username"], None, "CONFIRMED", attributes)
        user.enabled = seeded.get("enabled", True)
        pool.users[user.username] = user
        for group_name in seeded.get("groups", []):
            group = backend.get_group(user_pool_id, group_name)
            group.users.add(user)
            user.groups.add(group)
    return len(users)


def _add_device(user: CognitoIdpUser, key: str, name: str | None, *, remembered: bool) -> _Device:
    devices = _devices.setdefault(user, {})
    if key in devices:
        raise DeviceKeyExistsError(key)
    now = utcnow()
    devices[key] = _Device(key, name, remembered, created=now, last_modified=now, last_authenticated=now)
    return devices[key]


# Request handlers, installed as methods of moto's CognitoIdpResponse.


def _requested_user(response: CognitoIdpResponse) -> CognitoIdpUser:
    """The request's UserPoolId/Username user; moto raises ResourceNotFound/UserNotFound for us."""
    return response.backend.admin_get_user(response._get_param("UserPoolId"), response._get_param("Username"))


def _requested_device(response: CognitoIdpResponse) -> tuple[dict[str, _Device], _Device]:
    """The devices of the request's user and the one its DeviceKey names."""
    devices = _devices.get(_requested_user(response), {})
    device = devices.get(response._get_param("DeviceKey"))
    if device is None:
        raise ResourceNotFoundError("Device does not exist.")
    return devices, device


def _admin_list_devices(self: CognitoIdpResponse) -> ActionResult:
    devices = list(_devices.get(_requested_user(self), {}).values())
    limit = self._get_param("Limit") or MAX_DEVICES_PER_PAGE
    if not 0 < limit <= MAX_DEVICES_PER_PAGE:
        raise InvalidParameterException(f"Limit must be between 0 and {MAX_DEVICES_PER_PAGE}.")
    token = self._get_param("PaginationToken")
    keys = [device.key for device in devices]
    if token is not None and token not in keys:
        raise InvalidParameterException("Invalid pagination token.")
    start = keys.index(token) if token is not None else 0
    result: dict[str, Any] = {"Devices": [device.to_json() for device in devices[start : start + limit]]}
    if start + limit < len(devices):
        result["PaginationToken"] = keys[start + limit]
    return ActionResult(result)


def _admin_get_device(self: CognitoIdpResponse) -> ActionResult:
    _, device = _requested_device(self)
    return ActionResult({"Device": device.to_json()})


def _admin_forget_device(self: CognitoIdpResponse) -> ActionResult:
    devices, device = _requested_device(self)
    del devices[device.key]
    return EmptyResult()


def _admin_update_device_status(self: CognitoIdpResponse) -> ActionResult:
    _, device = _requested_device(self)
    status = self._get_param("DeviceRememberedStatus")
    if status not in (REMEMBERED, NOT_REMEMBERED):
        raise InvalidParameterException(f"DeviceRememberedStatus must be {REMEMBERED} or {NOT_REMEMBERED}.")
    device.remembered = status == REMEMBERED
    device.last_modified = utcnow()
    return EmptyResult()


def _admin_set_user_settings(self: CognitoIdpResponse) -> ActionResult:
    user = _requested_user(self)
    options = self._get_param("MFAOptions")
    if any(option != SMS_MFA_OPTION for option in options):
        raise InvalidParameterException("Only SMS to phone_number can be set as an MFA option.")
    user.sms_mfa_enabled = bool(options)
    user.last_modified_date = utcnow()
    return EmptyResult()


def _confirm_device(self: CognitoIdpResponse) -> ActionResult:
    key = self._get_param("DeviceKey")
    if len(key) > _DEVICE_KEY_MAX_LENGTH or not _DEVICE_KEY.fullmatch(key):
        raise InvalidParameterException(f"DeviceKey {key!r} does not match {_DEVICE_KEY.pattern}.")
    access_token = self._get_param("AccessToken")
    # ConfirmDevice is unsigned, so the request names no region: find it by token, as moto's ChangePassword.
    account_id, region = find_account_region_by_value(
        "access_token", access_token, fallback=(self.current_account, self.region)
    )
    backend = cognitoidp_backends[account_id][region]
    user = backend.get_user(access_token)  # NotAuthorizedException for a bad token or an unusable user
    device_configuration = backend.describe_user_pool(user.user_pool_id).extended_config.get(
        "DeviceConfiguration", {}
    )
    prompt = bool(device_configuration.get("DeviceOnlyRememberedOnUserPrompt"))
    _add_device(user, key, self._get_param("DeviceName"), remembered=not prompt)
    return ActionResult({"UserConfirmationNecessary": prompt})


# Wrappers of moto's own methods; the originals are captured once, at import, so install() stays idempotent.

_moto_admin_create_user = CognitoIdpBackend.admin_create_user
_moto_admin_reset_user_password = CognitoIdpBackend.admin_reset_user_password
_moto_user_to_json = CognitoIdpUser.to_json


def _admin_create_user(
    self: CognitoIdpBackend,
    user_pool_id: str,
    username: str,
    message_action: str,
    temporary_password: str,
    attributes: list[dict[str, str]],
) -> CognitoIdpUser:
    if message_action == "RESEND":
        user = _resend_invitation(self.admin_get_user(user_pool_id, username), temporary_password)
    else:
        user = _moto_admin_create_user(
            self, user_pool_id, username, message_action, temporary_password, attributes
        )
    if message_action != "SUPPRESS":
        _count(_invitations, user_pool_id, user.username)
    return user


def _resend_invitation(user: CognitoIdpUser, temporary_password: str | None) -> CognitoIdpUser:
    if user.status is not UserStatus.FORCE_CHANGE_PASSWORD:
        raise UnsupportedUserStateError(
            f"Resend not possible. {user.username} status is not FORCE_CHANGE_PASSWORD."
        )
    # The generated password carries every character class a default password policy asks for.
    user.password = temporary_password or f"{secrets.token_urlsafe(12)}aA1!"
    user.last_modified_date = utcnow()
    return user


def _admin_reset_user_password(self: CognitoIdpBackend, user_pool_id: str, username: str) -> None:
    _moto_admin_reset_user_password(self, user_pool_id, username)
    _count(_password_reset_codes, user_pool_id, self.admin_get_user(user_pool_id, username).username)


def _user_to_json(self: CognitoIdpUser, *args: Any, **kwargs: Any) -> dict[str, Any]:
    user_json = _moto_user_to_json(self, *args, **kwargs)
    if "MFAOptions" in user_json:
        user_json["MFAOptions"] = [dict(SMS_MFA_OPTION)] if self.sms_mfa_enabled else []
    return user_json


_PATCHES: tuple[tuple[type, str, Callable[..., Any]], ...] = (
    (CognitoIdpResponse, "admin_list_devices", _admin_list_devices),
    (CognitoIdpResponse, "admin_get_device", _admin_get_device),
    (CognitoIdpResponse, "admin_forget_device", _admin_forget_device),
    (CognitoIdpResponse, "admin_update_device_status", _admin_update_device_status),
    (CognitoIdpResponse, "admin_set_user_settings", _admin_set_user_settings),
    (CognitoIdpResponse, "confirm_device", _confirm_device),
    (CognitoIdpBackend, "admin_create_user", _admin_create_user),
    (CognitoIdpBackend, "admin_reset_user_password", _admin_reset_user_password),
    (CognitoIdpUser, "to_json", _user_to_json),
)


def install() -> None:
    """Patch moto's Cognito classes in this process; safe to call any number of times."""
    for owner, name, function in _PATCHES:
        setattr(owner, name, function)
