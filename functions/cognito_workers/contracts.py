"""The public contracts: the command envelope a producer sends and the outcome event it gets back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Keys and ids end up in log lines and DynamoDB keys: printable, no control characters, bounded.
Token = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]

OutcomeType = Literal["ActionSucceeded", "ActionSkipped", "ActionRejected", "ActionFailed"]


class CommandEnvelope(BaseModel):
    """One command for one action: an SQS body, or the `detail` of an EventBridge event."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    action: Token | None = Field(
        default=None, description="The Cognito action; inside an EventBridge detail the detail-type names it."
    )
    idempotency_key: Token | None = Field(
        default=None,
        alias="idempotencyKey",
        description="The producer's key; when omitted, the EventBridge event id and action, "
        "else a hash of the action and its canonical params.",
    )
    correlation_id: Token | None = Field(
        default=None,
        alias="correlationId",
        description="Carried into every log line and the outcome; defaults to the idempotency key.",
    )
    params: dict[str, Any] = Field(
        description="The Cognito API's own parameters; UserPoolId defaults to the deployment's pool."
    )
    dead_letter_rejections: bool = Field(
        default=True,
        alias="deadLetterRejections",
        description="`false`: a rejected command is audited (`ActionRejected`) but not dead-lettered, for a "
        "producer that handles rejections from the outcome events. The planner sends its steps so: a "
        "rejected step fails its plan or waits for the joiner; redriven, it could only apply out of order.",
    )


class OutcomeError(BaseModel):
    code: str
    message: str


class OutcomeDetail(BaseModel):
    """The `detail` of the one outcome event every processed command ends in."""

    model_config = ConfigDict(populate_by_name=True)

    action: str
    idempotency_key: str | None = Field(default=None, alias="idempotencyKey")
    correlation_id: str | None = Field(default=None, alias="correlationId")
    username: str | None = None
    user_pool_id: str | None = Field(default=None, alias="userPoolId")
    message_id: str = Field(alias="messageId", description="The SQS message that carried the command.")
    reason: Literal["AlreadyApplied", "AlreadyProcessed"] | None = Field(
        default=None,
        description="ActionSkipped only: Cognito answered that the effect already holds (AlreadyApplied), "
        "or this idempotency key was already processed (AlreadyProcessed).",
    )
    result: dict[str, Any] | None = Field(default=None, description="Cognito's response, secrets redacted.")
    error: OutcomeError | None = None
