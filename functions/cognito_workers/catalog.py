"""The action catalog: the single list that the handlers, the CDK stack and the local runtime read.

The 19 operations of the seed, plus what the lifecycle needs beside them: AdminUserGlobalSignOut (a leaver's
sessions) and AdminUpdateUserAttributes (a mover's attributes).

Each entry names a Cognito admin action, its quota category (and whether it locks a leaver out, served
first by the category's budget), which answers to a repeat mean "already applied", and which params and
result fields are secret; its boto3 operation, handler module and params model
(cognito_workers.params.<operation>) follow from its name.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from cognito_workers.custom_attributes import custom_attribute_differences
from cognito_workers.params import ActionParams


class QuotaCategory(Enum):
    """Cognito's account-wide request-rate categories, with their default requests per second."""

    USER_CREATION = ("UserCreation", 50)
    USER_AUTHENTICATION = ("UserAuthentication", 120)
    USER_ACCOUNT_RECOVERY = ("UserAccountRecovery", 30)
    USER_READ = ("UserRead", 120)
    USER_UPDATE = ("UserUpdate", 25)
    USER_RESOURCE_READ = ("UserResourceRead", 50)
    USER_RESOURCE_UPDATE = ("UserResourceUpdate", 25)
    USER_POOL_RESOURCE_UPDATE = ("UserPoolResourceUpdate", 15)
    USER_LIST = ("UserList", 30)  # ListUsers, ListUsersInGroup: the reconciler's reads

    def __init__(self, quota_name: str, requests_per_second: int) -> None:
        self.quota_name = quota_name
        self.requests_per_second = requests_per_second


def boto3_operation(action: str) -> str:
    """The boto3 client method of a Cognito action, e.g. AdminCreateUser -> admin_create_user."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


@dataclass(frozen=True)
class ConfirmingRead:
    """A read of the pool that decides whether a repeat answer means the effect holds, where the answer
    does not say enough. `action` is the Cognito read, called with the pool's id alone and granted to the
    worker beside its own action; `differences(params, response)` lists what the pool holds unlike the
    command's params (Cognito's names, as sent), none when the effect holds."""

    action: str
    differences: Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]

    @property
    def operation(self) -> str:
        return boto3_operation(self.action)


@dataclass(frozen=True)
class AlreadyApplied:
    """A Cognito answer to a repeated call that means its effect already holds.

    `message` narrows codes that Cognito also uses for real failures (InvalidParameterException,
    NotAuthorizedException). Where even the message cannot tell whether what exists is what was asked,
    `confirmed_by` reads it, only when this answer comes (a second IAM action for that worker).
    """

    code: str
    message: str | None = None
    confirmed_by: ConfirmingRead | None = None

    def matches(self, code: str, message: str) -> bool:
        return code == self.code and (self.message is None or re.search(self.message, message) is not None)


@dataclass(frozen=True)
class SecretParam:
    """A param that carries secrets: its whole value, or, for a map such as AuthParameters, the value under
    every key but `public_keys`. A key not named public is secret (a new Cognito key fails closed)."""

    name: str
    public_keys: frozenset[str] = frozenset()

    def holds_secret_at(self, path: tuple[int | str, ...]) -> bool:
        """Whether the value at `path` inside this param (() for the param itself) is secret."""
        return not (path and path[0] in self.public_keys)


@dataclass(frozen=True, kw_only=True)
class ActionSpec:
    name: str
    quota: QuotaCategory
    already_applied: tuple[AlreadyApplied, ...] = ()
    secrets: tuple[SecretParam, ...] = ()
    secret_result: frozenset[str] = field(default_factory=frozenset)
    # A leaver's lock-out (disable, sign-out): served first by its quota category's budget (budget.py).
    lock_out: bool = False

    @property
    def secret_params(self) -> frozenset[str]:
        """The params that carry secrets: dropped from DLQ bodies and kept out of the archive."""
        return frozenset(secret.name for secret in self.secrets)

    def holds_secret_at(self, location: tuple[int | str, ...]) -> bool:
        """Whether the value at `location` in the params (a pydantic error's `loc`) is secret."""
        return bool(location) and any(
            secret.name == location[0] and secret.holds_secret_at(location[1:]) for secret in self.secrets
        )

    @property
    def operation(self) -> str:
        """The boto3 client method, e.g. admin_create_user."""
        return boto3_operation(self.name)

    @property
    def params_module(self) -> str:
        return f"cognito_workers.params.{self.operation}"

    @property
    def params_model(self) -> type[ActionParams]:
        """The action's params model (e.g. AdminCreateUserParams), imported from its own module on first
        use: a function loads its own action's model and no other."""
        model: type[ActionParams] = getattr(importlib.import_module(self.params_module), f"{self.name}Params")
        return model

    @property
    def cognito_actions(self) -> tuple[str, ...]:
        """What its worker calls on the pool: its action, then the reads that confirm its repeat answers."""
        reads = [answer.confirmed_by.action for answer in self.already_applied if answer.confirmed_by]
        return (self.name, *sorted(set(reads)))

    @property
    def handler_module(self) -> str:
        return f"cognito_workers.handlers.{self.operation}"

    @property
    def handler(self) -> str:
        """The Lambda handler string, relative to the functions/ asset."""
        return f"{self.handler_module}.handler"

    def repeat_answer(self, code: str, message: str) -> AlreadyApplied | None:
        return next((answer for answer in self.already_applied if answer.matches(code, message)), None)


# AuthParameters and ChallengeResponses: every value is secret (PASSWORD, NEW_PASSWORD, SECRET_HASH, SRP_A,
# REFRESH_TOKEN, the MFA codes, ANSWER, ...) but those naming who or which device signs in.
_AUTH_PUBLIC_KEYS = frozenset({"USERNAME", "DEVICE_KEY"})
_AUTH_SECRET_PARAMS = (
    SecretParam("AuthParameters", public_keys=_AUTH_PUBLIC_KEYS),
    SecretParam("ChallengeResponses", public_keys=_AUTH_PUBLIC_KEYS),
    SecretParam("Session"),
)
_AUTH_SECRET_RESULT = frozenset({"AuthenticationResult", "Session", "ChallengeParameters"})

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        name="AddCustomAttributes",
        quota=QuotaCategory.USER_POOL_RESOURCE_UPDATE,
        already_applied=(
            # The message names the attribute, not its type: the pool's schema says whether it is as asked.
            AlreadyApplied(
                "InvalidParameterException",
                r"Existing attribute already has name",
                confirmed_by=ConfirmingRead("DescribeUserPool", custom_attribute_differences),
            ),
        ),
    ),
    ActionSpec(
        name="AdminAddUserToGroup",
        quota=QuotaCategory.USER_UPDATE,
    ),
    ActionSpec(
        name="AdminConfirmSignUp",
        quota=QuotaCategory.USER_CREATION,
        already_applied=(AlreadyApplied("NotAuthorizedException", r"Current status is CONFIRMED"),),
    ),
    ActionSpec(
        name="AdminCreateUser",
        quota=QuotaCategory.USER_CREATION,
        already_applied=(AlreadyApplied("UsernameExistsException"),),
        secrets=(SecretParam("TemporaryPassword"),),
    ),
    ActionSpec(
        name="AdminDeleteUser",
        quota=QuotaCategory.USER_UPDATE,
        already_applied=(AlreadyApplied("UserNotFoundException"),),
    ),
    ActionSpec(
        name="AdminDeleteUserAttributes",
        quota=QuotaCategory.USER_UPDATE,
    ),
    ActionSpec(
        name="AdminDisableUser",
        quota=QuotaCategory.USER_UPDATE,
        lock_out=True,
    ),
    ActionSpec(
        name="AdminEnableUser",
        quota=QuotaCategory.USER_UPDATE,
    ),
    ActionSpec(
        name="AdminForgetDevice",
        quota=QuotaCategory.USER_RESOURCE_UPDATE,
        already_applied=(AlreadyApplied("ResourceNotFoundException", r"[Dd]evice"),),
    ),
    ActionSpec(
        name="AdminGetDevice",
        quota=QuotaCategory.USER_RESOURCE_READ,
    ),
    ActionSpec(
        name="AdminGetUser",
        quota=QuotaCategory.USER_READ,
    ),
    ActionSpec(
        name="AdminInitiateAuth",
        quota=QuotaCategory.USER_AUTHENTICATION,
        secrets=_AUTH_SECRET_PARAMS,
        secret_result=_AUTH_SECRET_RESULT,
    ),
    ActionSpec(
        name="AdminListDevices",
        quota=QuotaCategory.USER_RESOURCE_READ,
    ),
    ActionSpec(
        name="AdminListGroupsForUser",
        quota=QuotaCategory.USER_RESOURCE_READ,
    ),
    ActionSpec(
        name="AdminRemoveUserFromGroup",
        quota=QuotaCategory.USER_UPDATE,
    ),
    ActionSpec(
        name="AdminResetUserPassword",
        quota=QuotaCategory.USER_ACCOUNT_RECOVERY,
    ),
    ActionSpec(
        name="AdminRespondToAuthChallenge",
        quota=QuotaCategory.USER_AUTHENTICATION,
        secrets=_AUTH_SECRET_PARAMS,
        secret_result=_AUTH_SECRET_RESULT,
    ),
    ActionSpec(
        name="AdminSetUserSettings",
        quota=QuotaCategory.USER_RESOURCE_UPDATE,
    ),
    ActionSpec(
        name="AdminUpdateDeviceStatus",
        quota=QuotaCategory.USER_RESOURCE_UPDATE,
    ),
    ActionSpec(
        name="AdminUpdateUserAttributes",
        quota=QuotaCategory.USER_UPDATE,
    ),
    ActionSpec(
        name="AdminUserGlobalSignOut",
        quota=QuotaCategory.USER_UPDATE,
        lock_out=True,
    ),
)

ACTIONS_BY_NAME: dict[str, ActionSpec] = {spec.name: spec for spec in ACTIONS}


@dataclass(frozen=True)
class PlannerSpec:
    """The lifecycle planner, a function of its own beside the actions: what it consumes and emits."""

    name: str = "LifecyclePlanner"
    handler_module: str = "cognito_workers.handlers.lifecycle_planner"
    event_types: tuple[str, ...] = (
        "EmployeeOnboarded",
        "EmployeeUpdated",
        "EmployeeOffboarded",
        "EmployeeRehired",
    )
    release_detail_type: str = "DeprovisioningReleased"
    command_source: str = "cognito.lifecycle.planner"
    # Outcomes of the planner's own steps come back to it: their idempotency keys start with this.
    step_key_prefix: str = "plan:"
    # The planner's second function: leavers and their lock-out outcomes, never behind other traffic.
    lock_out_lane_name: str = "LifecyclePlannerLockOut"
    lock_out_lane_handler_module: str = "cognito_workers.handlers.lifecycle_planner_lock_out"

    @property
    def handler(self) -> str:
        return f"{self.handler_module}.handler"

    @property
    def lock_out_actions(self) -> tuple[str, ...]:
        """A leaver's first stage: what ends a person's access, what the lock-out lane carries, and what the
        quota budget serves first (ActionSpec.lock_out)."""
        return tuple(spec.name for spec in ACTIONS if spec.lock_out)

    @property
    def lock_out_category(self) -> QuotaCategory:
        """The one quota category of the lock-out actions, whose budget sizes the lock-out lane."""
        (category,) = {spec.quota for spec in ACTIONS if spec.lock_out}
        return category

    @property
    def lock_out_lane_handler(self) -> str:
        return f"{self.lock_out_lane_handler_module}.handler"

    @property
    def handlers(self) -> dict[str, str]:
        """The planner's functions, by name: its main one and its lock-out lane, each with its Handler."""
        return {self.name: self.handler, self.lock_out_lane_name: self.lock_out_lane_handler}


PLANNER = PlannerSpec()


@dataclass(frozen=True)
class ReconcilerSpec:
    """The reconciler (cognito_workers/reconcile/): it reads the pool in pages (never one call per user),
    diffs it against an HR snapshot and publishes the HR lifecycle events that repair the drift, for the
    planner. The stack's function runs it on each snapshot put in the snapshot bucket; the operator CLI
    runs it on a file."""

    name: str = "Reconciler"
    handler_module: str = "cognito_workers.handlers.reconciler"
    event_source: str = "cognito.lifecycle.reconciler"
    # Its reads of the pool and their quota category (Cognito developer guide, "Quotas": UserList).
    reads: Mapping[str, QuotaCategory] = field(
        default_factory=lambda: {
            "ListUsers": QuotaCategory.USER_LIST,
            "ListUsersInGroup": QuotaCategory.USER_LIST,
        }
    )
    completed_detail_type: str = "ReconciliationCompleted"
    held_detail_type: str = "ReconciliationHeld"
    # A snapshot object the function cannot reconcile at all (outside the prefix, too large, unreadable),
    # or one it gave up on after its retries: audited and dead-lettered, nothing applied.
    refused_detail_type: str = "ReconciliationRefused"
    failed_detail_type: str = "ReconciliationFailed"

    @property
    def handler(self) -> str:
        return f"{self.handler_module}.handler"


RECONCILER = ReconcilerSpec()


@dataclass(frozen=True)
class ResourceNames:
    """How a deployment names what it creates, so that the stack, the local AWS and the operator CLI find
    the same things: `<prefix>-bus`, `<prefix>-<function>` and `<prefix>-<function>-dlq`."""

    prefix: str

    @property
    def bus(self) -> str:
        return f"{self.prefix}-bus"

    def queue(self, function: str) -> str:
        return f"{self.prefix}-{function}"

    def dead_letter_queue(self, function: str) -> str:
        return f"{self.prefix}-{function}-dlq"

    @property
    def functions(self) -> tuple[str, ...]:
        """Every queue-fed function: the actions, the planner and its lock-out lane, the reconciler."""
        return (*(spec.name for spec in ACTIONS), *PLANNER.handlers, RECONCILER.name)
