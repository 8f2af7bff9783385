"""The one module that calls cognito-idp: it runs an action and sorts every answer into our classes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from cognito_workers.catalog import ActionSpec, AlreadyApplied, ConfirmingRead
from cognito_workers.errors import CommandError, CommandRejected, RetryableFailure, error_code
from cognito_workers.params import ActionParams

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

# Cognito's transient answers. Everything else below HTTP 500 is permanent for the same input.
RETRYABLE_CODES = frozenset(
    {"TooManyRequestsException", "InternalErrorException", "ThrottlingException", "ServiceUnavailable"}
)


@dataclass(frozen=True)
class ActionResponse:
    """Cognito's response (ResponseMetadata removed), or the answer that says the effect already held."""

    response: dict[str, Any]
    already_applied: AlreadyApplied | None = None


def run_action(
    client: CognitoIdentityProviderClient,
    spec: ActionSpec,
    params: ActionParams,
    *,
    before_each_call: Callable[[], None],
) -> ActionResponse:
    """Call the action (and the read that confirms a repeat answer, where there is one); `before_each_call`
    runs before every call to Cognito (the worker waits there for its turn in the quota budget)."""
    sent = params.model_dump(exclude_none=True)
    before_each_call()
    try:
        response = _call(getattr(client, spec.operation), **sent)
    except CognitoRefusal as refusal:
        answer = spec.repeat_answer(refusal.code, refusal.message)
        if answer is None:
            raise refusal.classified() from refusal.error
        if answer.confirmed_by is not None:
            before_each_call()
            _confirm(client, answer.confirmed_by, sent, refusal)
        return ActionResponse(response={}, already_applied=answer)
    response.pop("ResponseMetadata", None)
    return ActionResponse(response=response)


class CognitoRefusal(Exception):
    """Cognito's error answer, before it is known whether it means "already applied"."""

    def __init__(self, error: ClientError) -> None:
        super().__init__(str(error))
        self.error = error
        self.code = error_code(error)
        self.message = str(error.response.get("Error", {}).get("Message", ""))
        self.status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))

    def classified(self) -> CommandError:
        if self.code in RETRYABLE_CODES or self.status >= 500:
            return RetryableFailure(self.code, self.message)
        return CommandRejected(self.code, self.message)


def _call(operation: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        response: dict[str, Any] = operation(**kwargs)
    except ClientError as error:
        raise CognitoRefusal(error) from error
    except (ConnectionError, HTTPClientError) as error:
        # Timeouts, resets and refused connections, after botocore's own retries.
        raise RetryableFailure(type(error).__name__, str(error)) from error
    return response


def _confirm(
    client: CognitoIdentityProviderClient,
    read: ConfirmingRead,
    sent: dict[str, Any],
    refusal: CognitoRefusal,
) -> None:
    """Read the pool; a repeat answer whose effect does not hold as asked rejects the command, naming how."""
    try:
        existing = _call(getattr(client, read.operation), UserPoolId=sent["UserPoolId"])
    except CognitoRefusal as read_refusal:
        raise read_refusal.classified() from read_refusal.error
    differences = read.differences(sent, existing)
    if differences:
        raise CommandRejected(
            "ConflictsWithExisting", f"{'; '.join(differences)} (Cognito: {refusal.code}: {refusal.message})"
        )
