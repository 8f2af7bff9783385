"""What every SQS-triggered function of the product shares: batches with partial failures, the error classes,
the dead-letter queue with reasons, and the one audit event each input ends in.

A QueueConsumer is given its work (RecordWork: an action's worker, or the planner), which parses and
processes one record and publishes its success through the consumer's OutcomePublisher; everything else is
here. Retryable failures go back to the queue as batch item failures until the last delivery, where they
are dead-lettered and audited as failed; permanent ones are dead-lettered at once with their reason (unless
their producer said it handles rejections: Delivery.rejections_dead_lettered) and the original is
acknowledged. One bad record never fails its siblings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypedDict, TypeVar

from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from cognito_workers.clients import AwsClients
from cognito_workers.contracts import OutcomeError
from cognito_workers.errors import CommandError, CommandRejected, ContendedFailure, RetryableFailure
from cognito_workers.observability import ActionMetrics, logger, traced
from cognito_workers.settings import ConsumerSettings

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef, PutEventsResponseTypeDef

# EventBridge takes at most ten entries per PutEvents call.
_PUT_EVENTS_MAX_ENTRIES = 10
# SQS message attributes allow 256 KiB in all; a reason is for humans and alarms.
_MAX_REASON_LENGTH = 1024
_MAX_USERNAME_LENGTH = 128
# A contended record (ContendedFailure) comes back after 2 s, then 4 s, 8 s...: the other invocation is done
# within seconds, where the queue's visibility timeout (six function timeouts) would hold it for minutes.
_CONTENDED_RETRY_SECONDS = 2

SettingsT = TypeVar("SettingsT", bound=ConsumerSettings)


def put_in_batches(
    events: EventBridgeClient, entries: Sequence[PutEventsRequestEntryTypeDef]
) -> Iterator[PutEventsResponseTypeDef]:
    """PutEvents calls of as many entries as one takes, each call's answer as it comes (one result entry
    per event put, refused or not)."""
    for start in range(0, len(entries), _PUT_EVENTS_MAX_ENTRIES):
        yield events.put_events(Entries=entries[start : start + _PUT_EVENTS_MAX_ENTRIES])


def put_all(events: EventBridgeClient, entries: Sequence[PutEventsRequestEntryTypeDef]) -> None:
    """Put events on the bus, as many per call as PutEvents takes; an entry the bus refuses is a retryable
    failure."""
    for answer in put_in_batches(events, entries):
        if answer.get("FailedEntryCount"):
            raise RetryableFailure("EventsNotPublished", str(answer.get("Entries", [])))


class SqsRecord:
    """One record of Lambda's SQS event, read where it is used. The consumers read three of its fields, so it
    stands in for Powertools' SQSRecord, whose package imports every event source's data class (about 13 ms
    of each cold start)."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    @property
    def message_id(self) -> str:
        message_id: str = self.raw["messageId"]
        return message_id

    @property
    def body(self) -> str:
        body: str = self.raw["body"]
        return body

    @property
    def receipt_handle(self) -> str:
        handle: str = self.raw["receiptHandle"]
        return handle

    @property
    def approximate_receive_count(self) -> str:
        """As SQS gives it, a decimal string."""
        count: str = self.raw["attributes"]["ApproximateReceiveCount"]
        return count


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class PartialBatchResponse(TypedDict):
    """What Lambda's SQS event source reads back (ReportBatchItemFailures): the records to deliver again."""

    batchItemFailures: list[BatchItemFailure]


@dataclass
class Delivery:
    """One SQS record as it is worked on, filled in as parsing gets further: what is known of it goes into
    its audit event and its DLQ entry even when it is rejected half-way."""

    record: SqsRecord
    envelope: dict[str, Any] | None = None
    idempotency_key: str | None = None
    correlation_id: str | None = None
    raw_username: Any = None
    user_pool_id: str | None = None
    # What the producer asked for its rejected inputs (the command envelope's deadLetterRejections).
    rejections_dead_lettered: bool = True

    @property
    def username(self) -> str | None:
        # Raw input, so that rejections are attributed too; an oversized value is not worth a log line.
        username = self.raw_username
        return username if isinstance(username, str) and len(username) <= _MAX_USERNAME_LENGTH else None

    def identify(self, *, username: Any = None, correlation_id: str | None = None) -> None:
        """Record who and what the input concerns, and say so on every log line from now on."""
        if username is not None:
            self.raw_username = username
            logger.thread_safe_append_keys(username=self.username or "")
        if correlation_id is not None:
            self.correlation_id = correlation_id
            logger.thread_safe_append_keys(correlation_id=correlation_id)


class RecordWork(Protocol):
    """What a consumer does with each of its records."""

    def process(self, delivery: Delivery) -> None:
        """Do the record's work and publish its audit event; raise CommandRejected or RetryableFailure."""

    def failure_detail(self, delivery: Delivery, error: OutcomeError) -> BaseModel:
        """The audit event detail of a record that was rejected or gave up."""


def _original_body(delivery: Delivery) -> str:
    return delivery.record.body


class QueueConsumer(Generic[SettingsT]):
    """An SQS-triggered function doing `work` on each record. `handler` is the Lambda entry point; `clients`
    and `settings` are read on first use and may be replaced beforehand (tests, the local runtime).

    `dead_letter_body` is what goes to the DLQ (the original body, unless the work must keep secrets out of
    it); `before_batch` is called once per invocation, with the settings loaded."""

    def __init__(
        self,
        name: str,
        *,
        work: RecordWork,
        settings_model: type[SettingsT],
        rejected_outcome: str,
        failed_outcome: str,
        dead_letter_body: Callable[[Delivery], str] = _original_body,
        before_batch: Callable[[LambdaContext], None] | None = None,
    ) -> None:
        self.name = name
        self.work = work
        self.settings_model = settings_model
        self.rejected_outcome = rejected_outcome
        self.failed_outcome = failed_outcome
        self.dead_letter_body = dead_letter_body
        self.before_batch = before_batch
        self.clients = AwsClients()
        self.settings: SettingsT | None = None
        self.metrics = ActionMetrics(name)
        self.outcomes = OutcomePublisher(
            events=lambda: self.clients.events,
            settings=self.configured_settings,
            metrics=self.metrics,
            needing_attention=frozenset({rejected_outcome, failed_outcome}),
        )
        self.handler = self._build_handler()

    def configured_settings(self) -> SettingsT:
        if self.settings is None:
            self.settings = self.settings_model.from_environment()
        assert self.settings is not None
        return self.settings

    def _build_handler(self) -> Any:
        @logger.inject_lambda_context(clear_state=True)
        @traced
        @self.metrics.emf.log_metrics
        def handler(event: dict[str, Any], context: LambdaContext) -> PartialBatchResponse:
            self.configured_settings()
            if self.before_batch is not None:
                self.before_batch(context)
            try:
                return self._process_batch(event, context)
            finally:
                if is_metrics_disabled():
                    # Powertools keeps disabled metrics and prints them once 100 values pile up.
                    self.metrics.emf.clear_metrics()

        return handler

    def _process_batch(self, event: dict[str, Any], context: LambdaContext) -> PartialBatchResponse:
        """Each record in turn; one that raises is handed back to the queue, its siblings are not. What
        Powertools' batch utility does for SQS, without its import (asyncio for its async processor, every
        event source's data class): about 25 ms of each cold start."""
        records = event.get("Records") if isinstance(event, dict) else None
        if not records or not isinstance(records, list):
            raise ValueError("not an SQS event: no Records")
        failures: list[BatchItemFailure] = []
        for raw_record in records:
            record = SqsRecord(raw_record)
            try:
                self._process_record(record, context)
            except Exception as error:
                # Why was logged where it was decided (a retry's warning, a defect's traceback); the error
                # itself only at DEBUG, as Powertools' batch utility did (its message is secret-free where it
                # was made, see redaction.py). A failure to dead-letter or audit also hands the record back.
                logger.debug("handed back to the queue", extra={"error": f"{type(error).__name__}: {error}"})
                failures.append({"itemIdentifier": record.message_id})
        return {"batchItemFailures": failures}

    def _process_record(self, record: SqsRecord, lambda_context: LambdaContext) -> None:
        settings = self.configured_settings()
        delivery = Delivery(record=record)
        # Until the input says otherwise, the delivery itself is what correlates; Powertools drops None
        # values, so an unknown username is logged as "". Thread-local keys: the local runtime runs several
        # functions in one process, where Lambda gives each its own.
        logger.thread_safe_append_keys(
            action=self.name, username="", message_id=record.message_id, correlation_id=record.message_id
        )
        try:
            if lambda_context.get_remaining_time_in_millis() < settings.deadline_margin_ms:
                raise RetryableFailure("DeadlineNear", "too little time left in this invocation")
            self.work.process(delivery)
        except CommandRejected as rejection:
            self._give_up(delivery, self.rejected_outcome, rejection)
        except RetryableFailure as failure:
            self._retry_or_give_up(delivery, failure, settings)
        except Exception as error:
            # A defect, not an AWS answer: retried like a transient failure, audited on the last delivery.
            logger.exception("unexpected error while processing a record")
            self._retry_or_give_up(delivery, CommandError(type(error).__name__, "unexpected error"), settings)

    def _retry_or_give_up(self, delivery: Delivery, failure: CommandError, settings: SettingsT) -> None:
        receive_count = int(delivery.record.approximate_receive_count)
        if receive_count < settings.max_receive_count:
            self.metrics.count("Retried")
            retry_in = self._retry_sooner(delivery.record, failure, receive_count, settings)
            logger.warning(
                "will be retried",
                extra={
                    "error_code": failure.code,
                    "receive_count": receive_count,
                    "retry_in_seconds": retry_in,
                },
            )
            raise failure
        self._give_up(delivery, self.failed_outcome, failure)

    def _retry_sooner(
        self, record: SqsRecord, failure: CommandError, receive_count: int, settings: SettingsT
    ) -> int | None:
        """Bring a contended record back after a short delay that doubles with each delivery; the seconds, or
        None where the queue's visibility timeout stands. The delivery before the last always waits that
        timeout, so the last comes after any invocation that held the record has timed out (its in-progress
        marker then expired), however short the earlier delays. A failed change leaves the timeout."""
        if not isinstance(failure, ContendedFailure) or receive_count >= settings.max_receive_count - 1:
            return None
        delay: int = _CONTENDED_RETRY_SECONDS << (receive_count - 1)
        try:
            self.clients.sqs.change_message_visibility(
                QueueUrl=settings.queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
            )
        except Exception as error:
            logger.warning("the queue's visibility timeout stands", extra={"error": type(error).__name__})
            return None
        return delay

    def _give_up(self, delivery: Delivery, outcome: str, error: CommandError) -> None:
        """Dead-letter the record with its reason (unless a rejection its producer handles), acknowledge the
        original, and audit it."""
        # The message is secret-free where it was made (see redaction.py): a prefix of it stays so.
        message = error.message[:_MAX_REASON_LENGTH] or error.code
        if outcome == self.failed_outcome or delivery.rejections_dead_lettered:
            self._dead_letter(delivery, outcome, error.code, message)
        detail = self.work.failure_detail(delivery, OutcomeError(code=error.code, message=message))
        self.outcomes.publish(outcome, detail)

    def _dead_letter(self, delivery: Delivery, outcome: str, code: str, message: str) -> None:
        record = delivery.record
        self.clients.sqs.send_message(
            QueueUrl=self.configured_settings().dead_letter_queue_url,
            MessageBody=self.dead_letter_body(delivery),
            MessageAttributes={
                "ErrorCode": {"DataType": "String", "StringValue": code},
                "ErrorMessage": {"DataType": "String", "StringValue": message},
                "Outcome": {"DataType": "String", "StringValue": outcome},
                "SourceMessageId": {"DataType": "String", "StringValue": record.message_id},
                "ReceiveCount": {
                    "DataType": "Number",
                    "StringValue": record.approximate_receive_count,
                },
            },
        )


@dataclass
class OutcomePublisher:
    """The audit events of one consumer (an action's worker, or the planner) on the bus: each put, counted
    as a metric and logged. `events` and `settings` are read at each use (tests and the local runtime
    replace a consumer's clients and settings)."""

    events: Callable[[], EventBridgeClient]
    settings: Callable[[], ConsumerSettings]
    metrics: ActionMetrics
    needing_attention: frozenset[str]  # logged as warnings

    def publish(self, outcome: str, detail: BaseModel, **log_extra: Any) -> None:
        """Put one audit event on the bus, count it, and log it."""
        self.put([self.entry(outcome, detail)])
        self.published(outcome, **log_extra)

    def entry(self, outcome: str, detail: BaseModel) -> PutEventsRequestEntryTypeDef:
        settings = self.settings()
        return {
            "Source": settings.outcome_event_source,
            "DetailType": outcome,
            "Detail": detail.model_dump_json(by_alias=True),
            "EventBusName": settings.event_bus_name,
        }

    def put(self, entries: list[PutEventsRequestEntryTypeDef]) -> None:
        """Put events on the bus; an entry the bus refuses fails the record, to be retried."""
        put_all(self.events(), entries)

    def published(self, outcome: str, **log_extra: Any) -> None:
        """Count an audit event that is on the bus, and log it."""
        self.metrics.count(outcome)
        log = logger.warning if outcome in self.needing_attention else logger.info
        log("processed", extra={"outcome": outcome, **log_extra})
