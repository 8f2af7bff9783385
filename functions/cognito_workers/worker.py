"""The one piece of code every action's handler is built from.

An SQS batch goes through Powertools' BatchProcessor; each record is parsed into a command, run at most
once per idempotency key, and ends in exactly one outcome event. Failures are sorted: retryable ones go
back to the queue as batch item failures (until the last delivery), permanent ones go to the action's DLQ
with their reason and the original is acknowledged. One bad record never fails its siblings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
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

from cognito_workers.catalog import ACTIONS_BY_NAME, ActionSpec
from cognito_workers.clients import AwsClients
from cognito_workers.cognito import run_action
from cognito_workers.contracts import CommandEnvelope, OutcomeDetail, OutcomeError, OutcomeType
from cognito_workers.errors import CommandError, CommandRejected, RetryableFailure, describe_validation_error
from cognito_workers.observability import action_metrics, logger, tracer
from cognito_workers.params import ActionParams
from cognito_workers.redaction import (
    canonical_json,
    redact_result,
    scrub,
    secret_values,
    without_secret_params,
)
from cognito_workers.settings import WorkerSettings

# SQS message attributes allow 256 KiB in all; a reason is for humans and alarms.
_MAX_REASON_LENGTH = 1024
_MAX_USERNAME_LENGTH = 128


@dataclass
class Delivery:
    """One SQS record as it is worked on, filled in as parsing gets further: what is known of it goes
    into its outcome and its DLQ entry even when it is rejected half-way."""

    record: SQSRecord
    envelope: dict[str, Any] | None = None
    secrets: frozenset[str] = frozenset()
    idempotency_key: str | None = None
    correlation_id: str | None = None
    params: ActionParams | None = None

    @property
    def username(self) -> str | None:
        raw_params = (self.envelope or {}).get("params")
        username = raw_params.get("Username") if isinstance(raw_params, dict) else None
        # Raw input, so that rejections are attributed too; an oversized value is not worth a log line.
        return username if isinstance(username, str) and len(username) <= _MAX_USERNAME_LENGTH else None


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Idempotency hook: the stored response is being returned instead of calling Cognito again."""
    return {**response, "replayed": True}


class ActionWorker:
    """The SQS-triggered worker of one catalog action. `handler` is the Lambda entry point.

    `clients` and `settings` are read on first use and may be replaced beforehand (tests, local runtime).
    """

    def __init__(self, action: str) -> None:
        self.spec: ActionSpec = ACTIONS_BY_NAME[action]
        self.clients = AwsClients()
        self.settings: WorkerSettings | None = None
        self._metrics = action_metrics(action)
        self._processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._idempotency = IdempotencyConfig(
            event_key_jmespath="idempotencyKey",
            payload_validation_jmespath="fingerprint",
            raise_on_no_idempotency_key=True,
            response_hook=_mark_replayed,
        )
        self._run_once: Any = None
        self.handler = self._build_handler()

    def _build_handler(self) -> Any:
        @logger.inject_lambda_context(clear_state=True)
        @tracer.capture_lambda_handler(capture_response=False)
        @self._metrics.log_metrics
        def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
            self._configured_settings()
            self._idempotency.register_lambda_context(context)
            return process_partial_response(
                event=event, record_handler=self._process_record, processor=self._processor, context=context
            )

        return handler

    def _configured_settings(self) -> WorkerSettings:
        if self.settings is None:
            self.settings = WorkerSettings.from_environment()
        return self.settings

    def _process_record(self, record: SQSRecord, lambda_context: LambdaContext) -> None:
        settings = self._configured_settings()
        delivery = Delivery(record=record)
        # Until the command says otherwise, the delivery itself is what correlates; Powertools drops None
        # values, so an unknown username is logged as "".
        logger.append_keys(action=self.spec.name, username="", message_id=record.message_id)
        logger.set_correlation_id(record.message_id)
        try:
            if lambda_context.get_remaining_time_in_millis() < settings.deadline_margin_ms:
                raise RetryableFailure("DeadlineNear", "too little time left in this invocation")
            params = self._parse(delivery, settings)
            outcome = self._run(delivery, params)
        except CommandRejected as rejection:
            self._give_up(delivery, "ActionRejected", rejection)
        except RetryableFailure as failure:
            self._retry_or_give_up(delivery, failure, settings)
        except Exception as error:
            # A defect, not a Cognito answer: retried like a transient failure, audited on the last delivery.
            logger.exception("unexpected error while processing a command")
            self._retry_or_give_up(delivery, CommandError(type(error).__name__, "unexpected error"), settings)
        else:
            replayed = outcome.get("replayed", False)
            self._publish(
                delivery,
                "ActionSkipped" if replayed else outcome["type"],
                reason="AlreadyProcessed" if replayed else outcome.get("reason"),
                result=outcome.get("result"),
            )

    def _retry_or_give_up(self, delivery: Delivery, failure: CommandError, settings: WorkerSettings) -> None:
        receive_count = int(delivery.record.attributes.approximate_receive_count)
        if receive_count < settings.max_receive_count:
            self._metrics.add_metric(name="ActionRetried", unit=MetricUnit.Count, value=1)
            logger.warning(
                "command will be retried",
                extra={"error_code": failure.code, "receive_count": receive_count},
            )
            raise failure
        self._give_up(delivery, "ActionFailed", failure)

    def _parse(self, delivery: Delivery, settings: WorkerSettings) -> ActionParams:
        """The command's params, validated; or a rejection naming the field and the reason."""
        try:
            body = json.loads(delivery.record.body)
        except json.JSONDecodeError as error:
            raise CommandRejected("MalformedJson", f"body: not valid JSON ({error.msg})") from None
        if not isinstance(body, dict):
            raise CommandRejected("InvalidCommand", "body: must be a JSON object")
        delivery.envelope, event_id = self._envelope_of(body)
        delivery.secrets = frozenset(secret_values(self.spec, delivery.envelope.get("params")))
        logger.append_keys(username=delivery.username or "")
        try:
            envelope = CommandEnvelope.model_validate(delivery.envelope)
        except ValidationError as error:
            raise CommandRejected("InvalidCommand", describe_validation_error(error)) from None
        delivery.idempotency_key, delivery.correlation_id = envelope.idempotency_key, envelope.correlation_id
        logger.set_correlation_id(envelope.correlation_id or delivery.record.message_id)
        if envelope.action != self.spec.name:
            known = envelope.action in ACTIONS_BY_NAME
            raise CommandRejected(
                "WrongQueue" if known else "UnknownAction",
                f"action: this worker runs {self.spec.name}, not {envelope.action!r}",
            )
        try:
            params = self.spec.params_model.model_validate(
                {"UserPoolId": settings.user_pool_id, **envelope.params}
            )
        except ValidationError as error:
            raise CommandRejected("InvalidParams", describe_validation_error(error, "params")) from None
        delivery.params = params
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
            delivery.correlation_id = delivery.idempotency_key
            logger.set_correlation_id(delivery.correlation_id)
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
            raise RetryableFailure("InProgress", "another delivery of this command is in progress") from None
        except IdempotencyPersistenceLayerError as error:
            raise RetryableFailure("IdempotencyStoreUnavailable", str(error)) from error
        return outcome

    def _idempotent_run(self) -> Any:
        if self._run_once is None:
            persistence = DynamoDBPersistenceLayer(
                table_name=self._configured_settings().idempotency_table_name,
                boto3_client=self.clients.dynamodb,
            )
            self._idempotency.expires_after_seconds = self._configured_settings().idempotency_expiry_seconds
            self._run_once = idempotent_function(
                data_keyword_argument="command",
                persistence_store=persistence,
                config=self._idempotency,
                key_prefix=self.spec.name,
            )(self._call_cognito)
        return self._run_once

    def _call_cognito(self, command: dict[str, str], params: ActionParams) -> dict[str, Any]:
        """The once-only unit; what it returns is stored in the idempotency record, so it is redacted."""
        response = run_action(self.clients.cognito_idp, self.spec, params)
        if response.already_applied is not None:
            return {"type": "ActionSkipped", "reason": "AlreadyApplied", "result": None}
        return {"type": "ActionSucceeded", "result": redact_result(self.spec, response.response)}

    def _give_up(self, delivery: Delivery, outcome: OutcomeType, error: CommandError) -> None:
        """Dead-letter the command with its reason, acknowledge the original, and audit it."""
        message = scrub(error.message, set(delivery.secrets))[:_MAX_REASON_LENGTH]
        record = delivery.record
        self.clients.sqs.send_message(
            QueueUrl=self._configured_settings().dead_letter_queue_url,
            MessageBody=self._dead_letter_body(delivery),
            MessageAttributes={
                "ErrorCode": {"DataType": "String", "StringValue": error.code},
                "ErrorMessage": {"DataType": "String", "StringValue": message or error.code},
                "Outcome": {"DataType": "String", "StringValue": outcome},
                "SourceMessageId": {"DataType": "String", "StringValue": record.message_id},
                "ReceiveCount": {
                    "DataType": "Number",
                    "StringValue": record.attributes.approximate_receive_count,
                },
            },
        )
        self._publish(delivery, outcome, error=OutcomeError(code=error.code, message=message))

    def _dead_letter_body(self, delivery: Delivery) -> str:
        """The original body, with secret params dropped and the resolved idempotency key kept for redrive."""
        body = delivery.record.body
        raw_params = (delivery.envelope or {}).get("params")
        if delivery.envelope is None or not isinstance(raw_params, dict):
            return body
        envelope = {**delivery.envelope, "params": without_secret_params(self.spec, raw_params)}
        if delivery.idempotency_key is not None:
            envelope["idempotencyKey"] = delivery.idempotency_key
        return json.dumps(envelope)

    def _publish(
        self,
        delivery: Delivery,
        outcome: OutcomeType,
        *,
        reason: str | None = None,
        result: dict[str, Any] | None = None,
        error: OutcomeError | None = None,
    ) -> None:
        settings = self._configured_settings()
        detail = OutcomeDetail(
            action=self.spec.name,
            idempotency_key=delivery.idempotency_key,
            correlation_id=delivery.correlation_id,
            username=delivery.username,
            user_pool_id=delivery.params.UserPoolId if delivery.params else None,
            message_id=delivery.record.message_id,
            reason=reason,
            result=result,
            error=error,
        )
        answer = self.clients.events.put_events(
            Entries=[
                {
                    "Source": settings.outcome_event_source,
                    "DetailType": outcome,
                    "Detail": detail.model_dump_json(by_alias=True),
                    "EventBusName": settings.event_bus_name,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RetryableFailure("OutcomeNotPublished", json.dumps(answer.get("Entries", [])))
        self._metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
        log = logger.warning if outcome in ("ActionRejected", "ActionFailed") else logger.info
        log(
            "command processed",
            extra={"outcome": outcome, "reason": reason, "error_code": error.code if error else None},
        )
