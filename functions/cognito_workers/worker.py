"""The one piece of code every action's handler is built from: a command is parsed and validated, run at
most once per idempotency key, converged where Cognito refuses a repeat whose effect holds, and audited in
one outcome event. Batches, error classes and the DLQ are the shared consumer's (consumer.py)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from cognito_workers.budget import QuotaBudget
from cognito_workers.catalog import ACTIONS_BY_NAME, ActionSpec
from cognito_workers.cognito import run_action
from cognito_workers.consumer import Delivery, QueueConsumer
from cognito_workers.contracts import CommandEnvelope, OutcomeDetail, OutcomeError
from cognito_workers.errors import (
    CommandError,
    CommandRejected,
    ContendedFailure,
    RetryableFailure,
    describe_validation_error,
)
from cognito_workers.params import ActionParams
from cognito_workers.redaction import canonical_json, redact_result, secret_values, without_secret_params
from cognito_workers.settings import WorkerSettings


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Idempotency hook: the stored response is being returned instead of calling Cognito again."""
    return {**response, "replayed": True}


class ActionWorker:
    """The work of one catalog action's SQS-triggered function (its `consumer`): each command runs at most
    once per idempotency key and ends in one outcome event."""

    def __init__(self, action: str) -> None:
        self.spec: ActionSpec = ACTIONS_BY_NAME[action]
        # Its module is imported here, at init, rather than looked up for every record.
        self.params_model = self.spec.params_model
        self._idempotency = IdempotencyConfig(
            event_key_jmespath="idempotencyKey",
            payload_validation_jmespath="fingerprint",
            raise_on_no_idempotency_key=True,
            response_hook=_mark_replayed,
        )
        self._run_once: Any = None
        self._invocation: LambdaContext | None = None
        self.consumer = QueueConsumer(
            action,
            work=self,
            settings_model=WorkerSettings,
            rejected_outcome="ActionRejected",
            failed_outcome="ActionFailed",
            dead_letter_body=self._secret_free_body,
            before_batch=self._start_invocation,
        )
        self.handler = self.consumer.handler

    def _start_invocation(self, context: LambdaContext) -> None:
        # Lets an interrupted record's INPROGRESS marker expire with the invocation, not an hour later.
        self._idempotency.register_lambda_context(context)
        # The budget's waits end where the invocation's deadline margin begins.
        self._invocation = context

    def process(self, delivery: Delivery) -> None:
        params = self._parse(delivery, self.consumer.configured_settings())
        outcome = self._run(delivery, params)
        replayed = outcome.get("replayed", False)
        reason = "AlreadyProcessed" if replayed else outcome.get("reason")
        self.consumer.outcomes.publish(
            "ActionSkipped" if replayed else outcome["type"],
            self._detail(delivery, reason=reason, result=outcome.get("result")),
            reason=reason,
        )

    def failure_detail(self, delivery: Delivery, error: OutcomeError) -> OutcomeDetail:
        return self._detail(delivery, error=error)

    def _detail(
        self,
        delivery: Delivery,
        *,
        reason: str | None = None,
        result: dict[str, Any] | None = None,
        error: OutcomeError | None = None,
    ) -> OutcomeDetail:
        return OutcomeDetail(
            action=self.spec.name,
            idempotency_key=delivery.idempotency_key,
            correlation_id=delivery.correlation_id,
            username=delivery.username,
            user_pool_id=delivery.user_pool_id,
            message_id=delivery.record.message_id,
            reason=reason,
            result=result,
            error=error,
        )

    def _parse(self, delivery: Delivery, settings: WorkerSettings) -> ActionParams:
        """The command's params, validated; or a rejection naming the field and the reason."""
        try:
            body = json.loads(delivery.record.body)
        except json.JSONDecodeError as error:
            raise CommandRejected("MalformedJson", f"body: not valid JSON ({error.msg})") from None
        if not isinstance(body, dict):
            raise CommandRejected("InvalidCommand", "body: must be a JSON object")
        delivery.envelope, event_id = self._envelope_of(body)
        raw_params = delivery.envelope.get("params")
        delivery.identify(username=raw_params.get("Username") if isinstance(raw_params, dict) else None)
        try:
            envelope = CommandEnvelope.model_validate(delivery.envelope)
        except ValidationError as error:
            raise CommandRejected("InvalidCommand", describe_validation_error(error)) from None
        delivery.idempotency_key = envelope.idempotency_key
        delivery.rejections_dead_lettered = envelope.dead_letter_rejections
        delivery.identify(correlation_id=envelope.correlation_id)
        if envelope.action != self.spec.name:
            known = envelope.action in ACTIONS_BY_NAME
            raise CommandRejected(
                "WrongQueue" if known else "UnknownAction",
                f"action: this worker runs {self.spec.name}, not {envelope.action!r}",
            )
        try:
            params = self.params_model.model_validate(
                {"UserPoolId": settings.user_pool_id, **envelope.params}
            )
        except ValidationError as error:
            raise CommandRejected(
                "InvalidParams", describe_validation_error(error, "params", self.spec.holds_secret_at)
            ) from None
        delivery.user_pool_id = params.UserPoolId
        if params.UserPoolId != settings.user_pool_id:
            raise CommandRejected(
                "UnmanagedUserPool",
                f"params.UserPoolId: {params.UserPoolId} is not managed by this deployment",
            )
        if delivery.idempotency_key is None:
            canonical_params = canonical_json(params.model_dump(mode="json", exclude_none=True))
            delivery.idempotency_key = (
                f"{event_id}:{self.spec.name}"
                if event_id
                else "sha256:" + hashlib.sha256(f"{self.spec.name}:{canonical_params}".encode()).hexdigest()
            )
        if delivery.correlation_id is None:
            delivery.identify(correlation_id=delivery.idempotency_key)
        return params

    def _envelope_of(self, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The envelope from either delivery shape, and the EventBridge event id when there is one."""
        if "detail-type" not in body or "detail" not in body:
            return body, None
        detail, detail_type = body["detail"], body["detail-type"]
        if not isinstance(detail, dict):
            raise CommandRejected("InvalidCommand", "detail: must be a JSON object")
        action = detail.get("action", detail_type)
        if action != detail_type:
            raise CommandRejected(
                "InvalidCommand", f"action: {action!r} disagrees with the event's detail-type {detail_type!r}"
            )
        event_id = body.get("id")
        return {**detail, "action": action}, event_id if isinstance(event_id, str) and event_id else None

    def _run(self, delivery: Delivery, params: ActionParams) -> dict[str, Any]:
        """Run the command at most once per idempotency key; a repeat returns the stored outcome."""
        fingerprint = hashlib.sha256(
            canonical_json(without_secret_params(self.spec, params.model_dump(mode="json"))).encode()
        ).hexdigest()
        try:
            outcome: dict[str, Any] = self._idempotent_run()(
                command={"idempotencyKey": delivery.idempotency_key, "fingerprint": fingerprint},
                params=params,
            )
        except IdempotencyValidationError:
            raise CommandRejected(
                "IdempotencyKeyReused", "idempotencyKey: already used for a command with other params"
            ) from None
        except IdempotencyAlreadyInProgressError:
            raise ContendedFailure("InProgress", "another delivery of this command is in progress") from None
        except IdempotencyPersistenceLayerError as error:
            raise RetryableFailure("IdempotencyStoreUnavailable", str(error)) from error
        return outcome

    def _idempotent_run(self) -> Any:
        if self._run_once is None:
            persistence = DynamoDBPersistenceLayer(
                table_name=self.consumer.configured_settings().idempotency_table_name,
                boto3_client=self.consumer.clients.dynamodb,
            )
            self._idempotency.expires_after_seconds = (
                self.consumer.configured_settings().idempotency_expiry_seconds
            )
            self._run_once = idempotent_function(
                data_keyword_argument="command",
                persistence_store=persistence,
                config=self._idempotency,
                key_prefix=self.spec.name,
            )(self._call_cognito)
        return self._run_once

    def _call_cognito(self, command: dict[str, str], params: ActionParams) -> dict[str, Any]:
        """The once-only unit; what it returns is stored in the idempotency record, so it is redacted."""
        try:
            response = run_action(
                self.consumer.clients.cognito_idp, self.spec, params, before_each_call=self._wait_for_turn
            )
        except CommandError as error:
            # Cognito's message may quote what it was sent; the chain (botocore's error) is dropped with it.
            raise error.withholding(secret_values(self.spec, params.model_dump())) from None
        if response.already_applied is not None:
            return {"type": "ActionSkipped", "reason": "AlreadyApplied", "result": None}
        return {"type": "ActionSucceeded", "result": redact_result(self.spec, response.response)}

    def _wait_for_turn(self) -> None:
        """Wait for a place in the quota category's account-wide budget, within this invocation's time."""
        settings = self.consumer.configured_settings()
        budget = QuotaBudget(
            self.consumer.clients.dynamodb,
            table_name=settings.quota_budget_table_name,
            category=self.spec.quota,
            rate=settings.quota_requests_per_second,
        )
        assert self._invocation is not None, "a handler invocation starts before any record"
        usable_ms = self._invocation.get_remaining_time_in_millis() - settings.deadline_margin_ms
        budget.wait_for_turn(lock_out=self.spec.lock_out, deadline=time.time() + usable_ms / 1000)

    def _secret_free_body(self, delivery: Delivery) -> str:
        """The original command with secret params dropped and the resolved idempotency key kept, so that a
        redrive after the cause is fixed applies exactly once."""
        raw_params = (delivery.envelope or {}).get("params")
        if delivery.envelope is None or not isinstance(raw_params, dict):
            return delivery.record.body
        envelope = {**delivery.envelope, "params": without_secret_params(self.spec, raw_params)}
        if delivery.idempotency_key is not None:
            envelope["idempotencyKey"] = delivery.idempotency_key
        return json.dumps(envelope)
