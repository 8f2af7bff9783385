"""The one module that calls cognito-idp: it runs an action and sorts every answer into our classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from cognito_workers.catalog import ActionSpec, AlreadyApplied
from cognito_workers.errors import CommandRejected, RetryableFailure, error_code
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
    client: CognitoIdentityProviderClient, spec: ActionSpec, params: ActionParams
) -> ActionResponse:
    operation = getattr(client, spec.operation)
    try:
        response = operation(**params.model_dump(exclude_none=True))
    except ClientError as error:
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        answer = spec.repeat_answer(code, message)
        if answer is not None:
            return ActionResponse(response={}, already_applied=answer)
        if code in RETRYABLE_CODES or status >= 500:
            raise RetryableFailure(code, message) from error
        raise CommandRejected(code, message) from error
    except (ConnectionError, HTTPClientError) as error:
        # Timeouts, resets and refused connections, after botocore's own retries.
        raise RetryableFailure(type(error).__name__, str(error)) from error
    response.pop("ResponseMetadata", None)
    return ActionResponse(response=response)
