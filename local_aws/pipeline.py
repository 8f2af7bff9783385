"""Lambda's SQS event source mappings, locally: every function's queue polled at once, its batches handed
to the real handler with Lambda's semantics.

- The mappings are the template's (local_aws/deployment.py): each function's queue, batch size, batching
  window, maximum concurrency and partial batch responses, its handler, environment, timeout and memory.
- Batches of up to `batch_size` records, gathered for up to `max_batching_window_seconds`.
- Visibility timeout, receive counts and redrive are the queue's own (moto keeps them): a record that is
  not deleted comes back after its visibility timeout, and moto moves a record received maxReceiveCount
  times to the DLQ on the next receive.
- Partial batch responses (when the mapping reports batch item failures): what `batchItemFailures` does
  not name is deleted. A handler that raises, overruns its timeout or answers an invalid response fails its
  whole batch: nothing is deleted.
- Maximum concurrency per function, each invocation in an execution environment of its own: the handler's
  module loaded anew (a cold start), its consumer given the function's environment and clients that sign
  as the function, then reused by later invocations, never by two at once (the workers keep per-call
  state). An environment that timed out is discarded, as Lambda does. Powertools' own variables
  (POWERTOOLS_*) are read once per process, not per environment.

One poller thread per function receives and dispatches, with the function's credentials (Lambda's poller
uses the function's execution role). moto's queues are not thread-safe (two deletes on one queue at once
can bring a deleted message back), so a function's receives and deletes are serialized, and its poller
long-polls only while none of its invocations runs: a delete never waits behind a long poll.

    pipeline = LocalPipeline.for_deployment(deployment)   # every function the template declares
    stats = pipeline.drain(timeout_s=60)    # until every queue is empty and nothing runs
    with pipeline: ...                      # or serve in the background: start() ... stop()
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from cognito_workers.consumer import QueueConsumer
from cognito_workers.observability import logger as workers_logger
from infra.concurrency import MAX_MAXIMUM_CONCURRENCY, MIN_MAXIMUM_CONCURRENCY
from local_aws.lambda_sqs import (
    LAMBDA_TIMEOUT_SECONDS,
    Handler,
    LambdaContext,
    batch_item_failures,
    delete_messages,
    environment_clients,
    receive_messages,
    sqs_event,
)
from local_aws.scheduler import LocalScheduler

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeFilterType
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from local_aws.deployment import LocalDeployment, LocalFunction

HandlerFactory = Callable[[], Handler]
# Sees each consumer an execution environment makes, before its first invocation (tests and the chaos
# runner swap or instrument its clients).
Prepare = Callable[[QueueConsumer[Any]], None]

LONG_POLL_SECONDS = 1
# While a function's invocations run, its poller receives without waiting (a long poll would hold up their
# deletes) and, finding nothing, tries again after this long or when an invocation ends: Lambda's pollers
# poll without pause, and with 1 s here a record arriving meanwhile waited up to a second at each hop (the
# lock-out path's three hops, on the local pipeline).
BUSY_POLL_SECONDS = 0.25
# Between the receives that fill a batch during its batching window.
BATCHING_POLL_SECONDS = 0.05
DRAIN_CHECK_SECONDS = 0.2
SCHEDULER_TICK_SECONDS = 1.0
_DEPTH_ATTRIBUTES: list[QueueAttributeFilterType] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]

logger = logging.getLogger(__name__)


def quiet_local_workers(log_level: str = "ERROR") -> None:
    """The workers log at `log_level` and up, without metrics or traces (the demo's malformed events are
    rejected on purpose: their warnings would drown its summary)."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", log_level)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    # An invocation that only moved a plan along has no metric to publish; Powertools warns each time.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    workers_logger.setLevel(os.environ["POWERTOOLS_LOG_LEVEL"])  # the workers' logger exists already


@dataclasses.dataclass(frozen=True, kw_only=True)
class EventSourceTuning:
    """The event source mapping's and the function's knobs, within Lambda's bounds."""

    batch_size: int = 10
    max_batching_window_seconds: float = 0
    maximum_concurrency: int = 2
    timeout_seconds: int = LAMBDA_TIMEOUT_SECONDS
    memory_mb: int = 256
    reports_batch_item_failures: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 10_000:
            raise ValueError("batch_size: 1 to 10000")
        if not 0 <= self.max_batching_window_seconds <= 300:
            raise ValueError("max_batching_window_seconds: 0 to 300")
        if self.batch_size > 10 and self.max_batching_window_seconds < 1:
            raise ValueError("a batch_size over 10 needs a max_batching_window_seconds of at least 1")
        if not MIN_MAXIMUM_CONCURRENCY <= self.maximum_concurrency <= MAX_MAXIMUM_CONCURRENCY:
            raise ValueError(f"maximum_concurrency: {MIN_MAXIMUM_CONCURRENCY} to {MAX_MAXIMUM_CONCURRENCY}")
        if not 1 <= self.timeout_seconds <= 900:
            raise ValueError("timeout_seconds: 1 to 900")

    @classmethod
    def of(cls, function: LocalFunction) -> EventSourceTuning:
        """As the template declares the function and its mapping."""
        return cls(
            batch_size=function.batch_size,
            max_batching_window_seconds=function.max_batching_window_seconds,
            maximum_concurrency=function.maximum_concurrency,
            timeout_seconds=function.timeout_seconds,
            memory_mb=function.memory_mb,
            reports_batch_item_failures=function.reports_batch_item_failures,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class QueueFunction:
    """A function fed by an SQS queue. `handler_factory` makes one execution environment's handler; the
    poller signs with `access_key_id` (None: the process's credentials)."""

    name: str
    queue_url: str
    queue_arn: str
    handler_factory: HandlerFactory
    tuning: EventSourceTuning = dataclasses.field(default_factory=EventSourceTuning)
    access_key_id: str | None = None


@dataclasses.dataclass(frozen=True)
class FunctionStats:
    """Counters since the pipeline was made. `records_received` counts deliveries (a retried record
    again): `records_succeeded` (deleted) + `records_failed` (batch item failures) + the records of the
    invocations counted in `errors` (raised, timed out or answered an invalid response)."""

    invocations: int = 0
    records_received: int = 0
    records_succeeded: int = 0
    records_failed: int = 0
    errors: int = 0

    def __add__(self, other: FunctionStats) -> FunctionStats:
        return FunctionStats(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(FunctionStats))
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class PipelineStats(FunctionStats):
    """The totals over every function, and each function's own counters."""

    functions: dict[str, FunctionStats]

    @classmethod
    def of(cls, functions: dict[str, FunctionStats]) -> PipelineStats:
        total = sum(functions.values(), FunctionStats())
        return cls(functions=functions, **dataclasses.asdict(total))


def execution_environment(function: LocalFunction, prepare: Prepare | None = None) -> Handler:
    """A cold start of the function: the module its Handler names loaded anew (so its module-level
    consumer is made afresh), given the function's environment and clients that sign as the function."""
    module_name, attribute = function.handler.rsplit(".", 1)
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.loader is None:
        raise ImportError(f"{function.function_name}: Handler {function.handler}: no module {module_name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = getattr(module, attribute)
    consumers = [
        consumer
        for value in vars(module).values()
        if isinstance(consumer := getattr(value, "consumer", None), QueueConsumer)
        and consumer.handler is handler
    ]
    if len(consumers) != 1:
        raise ImportError(f"{function.function_name}: Handler {function.handler} is not a queue consumer's")
    (consumer,) = consumers
    consumer.clients = environment_clients(function.function_name)
    consumer.settings = consumer.settings_model.from_environment(function.environment)
    if prepare:
        prepare(consumer)
    return handler


def local_function(
    function: LocalFunction, *, prepare: Prepare | None = None, tuning: EventSourceTuning | None = None
) -> QueueFunction:
    """The function as its event source mapping runs it; `tuning` replaces the template's knobs."""
    return QueueFunction(
        name=function.function_name,
        queue_url=function.queue.url,
        queue_arn=function.queue.arn,
        handler_factory=lambda: execution_environment(function, prepare),
        tuning=tuning or EventSourceTuning.of(function),
        access_key_id=function.function_name,
    )


def action_function(
    deployment: LocalDeployment,
    action: str,
    *,
    tuning: EventSourceTuning | None = None,
    prepare: Prepare | None = None,
) -> QueueFunction:
    """The action's function, as the template declares it."""
    return local_function(deployment.functions[action], prepare=prepare, tuning=tuning)


class _TimedOut(Exception):
    """The handler ran past the function's timeout: Lambda would have stopped it and failed the batch."""


class _EventSource:
    """One function's event source mapping: its poller, its execution environments, its counters."""

    def __init__(self, function: QueueFunction, sqs: SQSClient, stopping: threading.Event) -> None:
        self.function = function
        self._sqs = sqs
        self._stopping = stopping
        self._queue_lock = threading.Lock()
        self._changed = threading.Condition()  # guards everything below
        self._environments: list[Handler] = []  # idle ones
        self._invoking = 0
        self._dispatched = 0
        self._stats = FunctionStats()

    def activity(self) -> tuple[int, int, int]:
        """Invocations running, dispatched and finished: unchanged and idle means nothing happened."""
        with self._changed:
            return self._invoking, self._dispatched, self._stats.invocations

    def stats(self) -> FunctionStats:
        with self._changed:
            return self._stats

    def poll(self) -> None:
        """The poller's loop, until the pipeline stops; then it waits for its invocations to end."""
        tuning = self.function.tuning
        with ThreadPoolExecutor(tuning.maximum_concurrency, thread_name_prefix=self.function.name) as pool:
            while not self._stopping.is_set():
                with self._changed:
                    if self._invoking >= tuning.maximum_concurrency:
                        self._changed.wait(LONG_POLL_SECONDS)  # until an invocation ends
                        continue
                    busy = self._invoking > 0
                try:
                    messages = self._receive_batch(long_poll=not busy)
                except EndpointConnectionError as error:
                    # The local AWS is gone: one line says it, a traceback would tell nothing more.
                    if not self._stopping.is_set():
                        logger.error("%s: receiving failed: %s", self.function.name, error)
                    self._stopping.wait(LONG_POLL_SECONDS)
                    continue
                except (BotoCoreError, ClientError):
                    logger.exception("%s: receiving failed", self.function.name)
                    self._stopping.wait(LONG_POLL_SECONDS)
                    continue
                with self._changed:
                    if not messages:
                        if busy:
                            self._changed.wait(BUSY_POLL_SECONDS)
                        continue
                    self._invoking += 1
                    self._dispatched += 1
                    environment = self._environments.pop() if self._environments else None
                pool.submit(self._invoke, environment, messages)

    def _receive_batch(self, *, long_poll: bool) -> list[MessageTypeDef]:
        tuning = self.function.tuning
        messages = self._receive(tuning.batch_size, LONG_POLL_SECONDS if long_poll else 0)
        window_ends = time.monotonic() + tuning.max_batching_window_seconds
        while messages and len(messages) < tuning.batch_size and time.monotonic() < window_ends:
            more = self._receive(tuning.batch_size - len(messages), 0)
            if not more and self._stopping.wait(BATCHING_POLL_SECONDS):
                break
            messages += more
        return messages

    def _receive(self, count: int, wait_seconds: int) -> list[MessageTypeDef]:
        with self._queue_lock:
            return receive_messages(
                self._sqs, self.function.queue_url, max_messages=min(count, 10), wait_seconds=wait_seconds
            )

    def _invoke(self, environment: Handler | None, messages: list[MessageTypeDef]) -> None:
        """One invocation in its environment (made on first use, like a cold start)."""
        handler = environment
        failed: frozenset[str] | None = None
        try:
            handler = handler or self.function.handler_factory()
            failed = self._call(handler, messages)
        except _TimedOut as timeout:
            logger.error("%s: %s; its environment is discarded", self.function.name, timeout)
            handler = None
        except Exception:
            # Whatever a handler raises fails its batch in Lambda, and the poller must outlive it.
            logger.exception("%s: the invocation failed", self.function.name)
        if failed is not None:
            self._delete([message for message in messages if message["MessageId"] not in failed])
        counted = (
            FunctionStats(1, len(messages), errors=1)
            if failed is None
            else FunctionStats(1, len(messages), len(messages) - len(failed), len(failed))
        )
        with self._changed:
            self._stats += counted
            self._invoking -= 1
            if handler is not None:
                self._environments.append(handler)
            self._changed.notify_all()

    def _call(self, handler: Handler, messages: list[MessageTypeDef]) -> frozenset[str]:
        """The handler's batch item failures, read as Lambda reads them."""
        timeout = self.function.tuning.timeout_seconds
        context = LambdaContext(
            function_name=self.function.name,
            timeout_seconds=timeout,
            memory_limit_in_mb=self.function.tuning.memory_mb,
        )
        response = handler(sqs_event(messages, self.function.queue_arn), context)
        if context.get_remaining_time_in_millis() == 0:
            raise _TimedOut(f"Task timed out after {timeout} seconds")
        if not self.function.tuning.reports_batch_item_failures:
            return frozenset()  # without ReportBatchItemFailures, Lambda ignores what the handler answers
        return batch_item_failures(response, messages)

    def _delete(self, messages: list[MessageTypeDef]) -> None:
        try:
            with self._queue_lock:
                delete_messages(self._sqs, self.function.queue_url, messages)
        except (BotoCoreError, ClientError):
            logger.exception("%s: deleting failed; the records will be delivered again", self.function.name)


def _poller_client(function: QueueFunction) -> SQSClient:
    """The function's poller's SQS client: every invocation's delete at once, without waiting for a
    connection."""
    config = Config(max_pool_connections=1 + function.tuning.maximum_concurrency)
    client: SQSClient = environment_clients(function.access_key_id).session.client("sqs", config=config)
    return client


class LocalPipeline:
    """The event source mappings of a set of functions, plus the scheduler's clock when one is given."""

    def __init__(
        self,
        functions: Iterable[QueueFunction],
        *,
        sqs: SQSClient | None = None,
        scheduler: LocalScheduler | None = None,
    ) -> None:
        functions = list(functions)
        if len({function.name for function in functions}) < len(functions):
            raise ValueError("two functions have the same name")
        self._sqs = sqs or environment_clients().sqs
        self._stopping = threading.Event()
        self._sources = {
            function.name: _EventSource(function, _poller_client(function), self._stopping)
            for function in functions
        }
        self._scheduler = scheduler
        self._threads: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        return bool(self._threads)

    @classmethod
    def for_deployment(
        cls,
        deployment: LocalDeployment,
        *,
        extra_functions: Iterable[QueueFunction] = (),
        scheduler: LocalScheduler | None = None,
        prepare: Prepare | None = None,
    ) -> LocalPipeline:
        """Every function the template declares and the extra ones, with a scheduler on the wall clock
        unless another is given. `prepare` sees every consumer the pipeline makes."""
        return cls(
            [
                *(local_function(function, prepare=prepare) for function in deployment.functions.values()),
                *extra_functions,
            ],
            scheduler=scheduler or LocalScheduler(),
        )

    def stats(self) -> PipelineStats:
        return PipelineStats.of({name: source.stats() for name, source in self._sources.items()})

    def start(self) -> None:
        """Serve in the background: every queue long-polled, the scheduler's clock ticking."""
        if self._threads:
            raise RuntimeError("the pipeline is already running")
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=source.poll, name=f"poller-{name}", daemon=True)
            for name, source in self._sources.items()
        ]
        if self._scheduler is not None:
            self._threads.append(
                threading.Thread(
                    target=self._keep_time, args=(self._scheduler,), name="scheduler", daemon=True
                )
            )
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 60) -> None:
        """Stop polling and wait for the invocations that run to end (a long poll ends within 1 s)."""
        self._stopping.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        if self._threads:
            raise TimeoutError(f"still running after {timeout_s} s: {[t.name for t in self._threads]}")

    def drain(self, timeout_s: float = 60) -> PipelineStats:
        """Run until every function's queue is empty and no invocation runs, and return the counters.

        Failed records wait out their visibility timeout, so keep it short locally. Serving or not, the
        pipeline is left as it was found."""
        serving = self.running
        if not serving:
            self.start()
        try:
            deadline = time.monotonic() + timeout_s
            while not self._idle():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not drained after {timeout_s} s: {dict(self._backlog())}")
                time.sleep(DRAIN_CHECK_SECONDS)
        finally:
            if not serving:
                self.stop()
        return self.stats()

    def __enter__(self) -> LocalPipeline:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _idle(self) -> bool:
        """No invocation ran, started or ended while every queue was seen empty, and nothing was due.

        Queues are read one after the other: a handler that sends to an already-read queue and ends
        before the last one is read changes the activity, so the check fails and is made again."""
        before = [source.activity() for source in self._sources.values()]
        if any(invoking for invoking, _, _ in before):
            return False
        if self._scheduler is not None and self._scheduler.fire_due():
            return False
        if next(self._backlog(), None) is not None:
            return False
        return [source.activity() for source in self._sources.values()] == before

    def _backlog(self) -> Iterator[tuple[str, int]]:
        """The functions whose queue holds messages (visible, in flight or delayed), with their number."""
        for name, source in self._sources.items():
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=source.function.queue_url, AttributeNames=_DEPTH_ATTRIBUTES
            )["Attributes"]
            if depth := sum(int(value) for key, value in attributes.items() if key in _DEPTH_ATTRIBUTES):
                yield name, depth

    def _keep_time(self, scheduler: LocalScheduler) -> None:
        while not self._stopping.wait(SCHEDULER_TICK_SECONDS):
            try:
                scheduler.fire_due()
            except (BotoCoreError, ClientError):
                logger.exception("the scheduler could not fire its due schedules")
