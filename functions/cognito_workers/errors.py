"""The error classes every failure is sorted into: retryable, permanent (rejected) or converged."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError
from pydantic import ValidationError

T = TypeVar("T")


class CommandError(Exception):
    """A command that did not take effect, with a code and a message safe to log and publish."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CommandRejected(CommandError):
    """Permanent: bad input, or Cognito refused for good. Dead-lettered at once, never retried."""


class RetryableFailure(CommandError):
    """Transient: throttling, 5xx, timeouts. The record goes back to its queue."""


def describe_validation_error(error: ValidationError, prefix: str = "") -> str:
    """Each failing field by its path and the reason, never the offending value (it may be a secret)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in (prefix, *problem['loc']) if part != '')}: {problem['msg']}"
        for problem in error.errors(include_url=False, include_input=False)
    )


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def retried_on_aws_error(request: Callable[[], T]) -> T:
    """Run a call to the function's own resources (table, scheduler): any AWS error there is worth a retry,
    and on the last delivery the record is dead-lettered with it."""
    try:
        return request()
    except ClientError as error:
        raise RetryableFailure(error_code(error), str(error)) from error
