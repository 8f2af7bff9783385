"""The operator's CloudWatch dashboard: what the alarms (infra/alarms.py) watch, and what leads up to them.

Rows, top to bottom: each action's outcomes by type; every queue's depth and the age of its oldest message;
every DLQ's depth; retries and Lambda throttles; the planner's plans started, held, stalled and failed; the
time to lock-out (p50, p99, maximum) against its SLO; the reconciler's runs completed, held, refused and
failed. The product's own metrics are the functions' EMF
metrics (Powertools: namespace METRICS_NAMESPACE, dimensions `action` = the function's catalog name and
`service`); a consumer counts every audit event it publishes under the event's detail-type, and every record
it hands back to its queue for a retry as `Retried` (cognito_workers/consumer.py). The template tests check
that each metric of that namespace shown here is one the code emits, with the same dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from cognito_workers.catalog import PLANNER, RECONCILER
from cognito_workers.contracts import OutcomeType
from cognito_workers.lifecycle.state import TIME_TO_LOCK_OUT
from infra.alarms import HOLD_METRIC
from infra.consumer import METRICS_NAMESPACE, SERVICE_NAME, QueueFedFunction

PERIOD = cdk.Duration.minutes(5)
# A record handed back to its queue for another delivery (QueueConsumer._retry_or_give_up).
RETRIED_METRIC = "Retried"
# The planner's audit events, each counted under its detail-type (lifecycle/state.py): a plan started (or
# released from its hold), held by the leaver threshold, stalled on a step that gave up, or failed.
PLAN_METRICS = ("PlanStarted", HOLD_METRIC, "PlanStalled", "PlanFailed")
# The reconciler's audit events, each counted under its detail-type (reconcile/function.py).
RECONCILIATION_METRICS = (
    RECONCILER.completed_detail_type,
    RECONCILER.held_detail_type,
    RECONCILER.refused_detail_type,
    RECONCILER.failed_detail_type,
)
# CloudWatch's grid is 24 units wide: four graphs a row.
FULL_WIDTH = 24
GRAPH_WIDTH = 6
GRAPH_HEIGHT = 6


def product_metric(
    name: str, function: str, *, label: str | None = None, statistic: str = cloudwatch.Stats.SUM
) -> cloudwatch.Metric:
    """One of the functions' EMF metrics (a count, summed per period, unless told), with the dimensions
    every metric of theirs carries."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"action": function, "service": SERVICE_NAME},
        statistic=statistic,
        period=PERIOD,
        label=label or name,
    )


class OperatorDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        workers: Sequence[QueueFedFunction],
        planners: Sequence[QueueFedFunction],
        reconciler: QueueFedFunction,
        lock_out_slo_seconds: int,
    ) -> None:
        """`planners`: the planner's functions (its main one, and its lock-out lane if deployed); their
        metrics are the planner's (dimension action = PLANNER.name)."""
        super().__init__(scope, construct_id)
        consumers = [*workers, *planners, reconciler]
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=cdk.Duration.hours(3),
        )
        self.dashboard.add_widgets(
            _heading("Outcomes per action", "One count per outcome event, by type (Sum per 5 minutes)."),
            *(_graph(f"{worker.name} outcomes", _outcomes(worker)) for worker in workers),
        )
        self.dashboard.add_widgets(
            _heading(
                "Queues",
                "Messages waiting in each function's queue, the age of the oldest, and every dead-letter"
                " queue's depth (each DLQ is alarmed at 1).",
            ),
            _wide_graph(
                "Queue depth (visible messages, Maximum)",
                [
                    c.queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label=c.name
                    )
                    for c in consumers
                ],
            ),
            _wide_graph(
                "Age of the oldest message (seconds, Maximum)",
                [
                    c.queue.metric_approximate_age_of_oldest_message(
                        period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label=c.name
                    )
                    for c in consumers
                ],
            ),
            _wide_graph(
                "Dead-letter queue depth (visible messages, Maximum)",
                [
                    c.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label=c.name
                    )
                    for c in consumers
                ],
            ),
        )
        self.dashboard.add_widgets(
            _heading(
                "Throttles and retries",
                "Records handed back to their queue for a retry (throttling, 5xx, timeouts), and Lambda"
                " invocations throttled by the account's concurrency (Sum per 5 minutes).",
            ),
            _wide_graph(
                "Retried records",
                [
                    product_metric(RETRIED_METRIC, name, label=name)
                    for name in [*(w.name for w in workers), PLANNER.name, RECONCILER.name]
                ],
            ),
            _wide_graph(
                "Lambda throttles",
                [
                    c.function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM, label=c.name)
                    for c in consumers
                ],
            ),
        )
        self.dashboard.add_widgets(
            _heading(
                "Lifecycle plans",
                "The planner's plans: started (or released from a hold), held by the leaver threshold"
                " (alarmed), stalled on a step that gave up (its command is in a DLQ), failed on a rejected"
                " step.",
            ),
            _wide_graph("Plans", [product_metric(name, PLANNER.name) for name in PLAN_METRICS]),
        )
        self.dashboard.add_widgets(
            _heading(
                "Time to lock-out",
                "From a leaver's HR event to its user disabled and signed out (the planner's TimeToLockOut,"
                f" seconds; the alarm line is lockOutSloSeconds, {lock_out_slo_seconds} s).",
            ),
            cloudwatch.GraphWidget(
                title="Time to lock-out (seconds)",
                left=[
                    product_metric(TIME_TO_LOCK_OUT, PLANNER.name, statistic=statistic, label=statistic)
                    for statistic in ("p50", "p99", cloudwatch.Stats.MAXIMUM)
                ],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=lock_out_slo_seconds, label="SLO")],
                width=FULL_WIDTH,
                height=GRAPH_HEIGHT,
            ),
        )
        self.dashboard.add_widgets(
            _heading(
                "Reconciliation",
                "The reconciler's runs on the snapshots put in its bucket: completed (or dry runs), held by"
                " the safety check (alarmed), refused (the object could not be reconciled at all), failed.",
            ),
            _wide_graph(
                "Reconciliations", [product_metric(name, RECONCILER.name) for name in RECONCILIATION_METRICS]
            ),
        )


def _outcomes(worker: QueueFedFunction) -> list[cloudwatch.IMetric]:
    return [product_metric(outcome, worker.name) for outcome in get_args(OutcomeType)]


def _heading(title: str, text: str) -> cloudwatch.TextWidget:
    return cloudwatch.TextWidget(markdown=f"## {title}\n{text}", width=FULL_WIDTH, height=2)


def _graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=GRAPH_WIDTH, height=GRAPH_HEIGHT)


def _wide_graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=metrics,
        width=FULL_WIDTH // 2,
        height=GRAPH_HEIGHT,
        legend_position=cloudwatch.LegendPosition.RIGHT,
    )
