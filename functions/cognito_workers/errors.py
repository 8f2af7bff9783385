"""The error classes every failure is sorted into: retryable, permanent (rejected) or converged."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from botocore.exceptions import ClientError
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from cognito_workers.redaction import WITHHELD, echoes_secret, strings_in

T = TypeVar("T")


class CommandError(Exception):
    """A command that did not take effect, with a code and a message safe to log and publish."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def withholding(self, secrets: Collection[str]) -> CommandError:
        """This error, or the same error with its message withheld whole if the message echoes a secret."""
        return type(self)(self.code, WITHHELD) if echoes_secret(self.message, secrets) else self


class CommandRejected(CommandError):
    """Permanent: bad input, or Cognito refused for good. Dead-lettered at once, never retried."""


class RetryableFailure(CommandError):
    """Transient: throttling, 5xx, timeouts. The record goes back to its queue."""


class ContendedFailure(RetryableFailure):
    """Transient because another invocation holds what the record needs (its command in progress, its
    person's state being saved): it is over within seconds, so the record comes back after a short delay
    rather than the queue's visibility timeout (consumer.py)."""


def describe_validation_error(
    error: ValidationError,
    prefix: str = "",
    holds_secret_at: Callable[[tuple[int | str, ...]], bool] = lambda location: False,
) -> str:
    """Each failing field by its path and the reason, never the offending value (it may be a secret).

    Pydantic's messages do not quote the value; should one at a location that `holds_secret_at` (a custom
    validator's, say) quote it nonetheless, the message is withheld and the error's type stands in."""
    return "; ".join(
        f"{'.'.join(str(part) for part in (prefix, *problem['loc']) if part != '')}: "
        f"{_problem_reason(problem, holds_secret_at(problem['loc']))}"
        for problem in error.errors(include_url=False)
    )


def _problem_reason(problem: ErrorDetails, at_secret: bool) -> str:
    if at_secret and echoes_secret(problem["msg"], set(strings_in(problem["input"]))):
        return f"{problem['type']} ({WITHHELD})"
    return problem["msg"]


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def retried_on_aws_error(request: Callable[[], T]) -> T:
    """Run a call to the function's own resources (table, scheduler): any AWS error there is worth a retry,
    and on the last delivery the record is dead-lettered with it."""
    try:
        return request()
    except ClientError as error:
        raise RetryableFailure(error_code(error), str(error)) from error
