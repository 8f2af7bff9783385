"""The stack's reconciler function on the local AWS, as the template deploys it: a snapshot put in the bucket
reaches the function through S3's EventBridge notification, the default bus's rule and its queue; the
function reconciles it against the pool, keeps the run's report in the bucket and publishes the repairs,
which the planner and the workers run. Objects it cannot take are refused with their reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from cognito_workers.catalog import RECONCILER
from cognito_workers.consumer import QueueConsumer
from local_aws.deployment import LocalDeployment, LocalFunction
from local_aws.lambda_sqs import BatchReport, deliver_batch
from local_aws.pipeline import execution_environment
from local_aws.server import LocalAws
from operator_cli.app import EXIT_OK, main
from tests.cli.queues import take_all
from tests.conftest import Pipeline
from tests.integration.test_reconcile import HEADER, lifecycle, own, seed, state_of, usernames

__all__ = ["lifecycle", "own"]  # fixtures
SNAPSHOT_KEY = "snapshots/hr-2026-12-02.csv"


class SnapshotBucket:
    """The deployment's snapshot bucket, emptied, and its reconciler function as Lambda runs it."""

    def __init__(self, deployment: LocalDeployment, sqs: Any, *, apply: bool = True) -> None:
        self.name = deployment.outputs["SnapshotBucketName"]
        self.function: LocalFunction = deployment.functions[RECONCILER.name]
        self.s3 = boto3.client("s3")
        self.sqs = sqs
        self.pipeline = Pipeline(deployment=deployment, sqs=sqs)
        listed = self.s3.list_objects_v2(Bucket=self.name).get("Contents", [])
        for found in listed:
            self.s3.delete_object(Bucket=self.name, Key=found["Key"])
        for url in (self.function.queue.url, self.function.queue.dead_letter_url):
            take_all(sqs, url)
        self.pipeline.collect_outcomes()  # earlier tests' audit events, left out of this one's
        self.pipeline.outcomes.clear()
        self.handler = execution_environment(self.function, prepare=self._applying(apply))

    @staticmethod
    def _applying(apply: bool) -> Callable[[QueueConsumer[Any]], None]:
        """The function as deployed, or as deployed with the reconciler knob applySnapshots false."""

        def prepare(consumer: QueueConsumer[Any]) -> None:
            assert consumer.settings is not None
            consumer.settings = consumer.settings.model_copy(update={"apply_snapshots": apply})

        return prepare

    def put(self, key: str, text: str) -> None:
        self.s3.put_object(Bucket=self.name, Key=key, Body=text.encode())

    def deliver(self) -> BatchReport:
        """One invocation of the function on what its queue holds (one snapshot at a time, as deployed)."""
        return deliver_batch(
            self.handler,
            self.sqs,
            queue_url=self.function.queue.url,
            queue_arn=self.function.queue.arn,
            function_name=self.function.function_name,
            batch_size=1,
        )

    def text(self, key: str) -> str:
        return str(self.s3.get_object(Bucket=self.name, Key=key)["Body"].read().decode())

    def outcomes(self, detail_type: str) -> list[dict[str, Any]]:
        return [o["detail"] for o in self.pipeline.outcomes_of_type(detail_type)]


@pytest.fixture
def bucket(own: LocalDeployment, empty_reconcile_pool: str, sqs: Any) -> SnapshotBucket:
    return SnapshotBucket(own, sqs)


def test_a_snapshot_put_in_the_bucket_is_reconciled_and_repaired_and_a_redelivery_plans_nothing_new(
    bucket: SnapshotBucket, cognito: Any, empty_reconcile_pool: str, lifecycle: Any
) -> None:
    pool = empty_reconcile_pool
    # Given a pool drifted by hand: an attribute edited, and a managed user no employee matches
    seed(cognito, pool, "e1", "E1", "staff", given_name="Old")
    seed(cognito, pool, "e2", "E2", "staff", given_name="Bob")
    seed(cognito, pool, "stray", None)
    for employee in range(3, 40):  # enough people that one leaver is under the safety check's 5%
        seed(cognito, pool, f"e{employee}", f"E{employee}", "staff", given_name="Same")
    rows = [f"E{n},e{n}@example.com,Same,staff\n" for n in range(3, 40)]
    snapshot = HEADER + "E1,e1@example.com,Ada,staff\n" + "E2,e2@example.com,Bob,staff\n" + "".join(rows)

    # When HR's export puts the snapshot under the prefix
    bucket.put(SNAPSHOT_KEY, snapshot)
    assert bucket.deliver().received == 1
    assert bucket.deliver().received == 0  # the run's own reports reach no queue

    # Then the run is audited, its report and summary sit beside the snapshot in the bucket
    (completed,) = bucket.outcomes(RECONCILER.completed_detail_type)
    assert completed["status"] == "Completed"
    assert {kind: n for kind, n in completed["counts"].items() if n} == {
        "mover": 1,
        "leaver": 1,
        "unchanged": 38,
    }
    assert completed["published"] == 2
    assert completed["report"] == f"s3://{bucket.name}/reports/{completed['runId']}.jsonl"
    report = [json.loads(line) for line in bucket.text(f"reports/{completed['runId']}.jsonl").splitlines()]
    assert sorted((line["kind"], line["username"]) for line in report) == [
        ("leaver", "stray"),
        ("mover", "e1"),
    ]

    # When the same notification is delivered again before the repairs ran (SQS delivers at least once)
    bucket.sqs.send_message(QueueUrl=bucket.function.queue.url, MessageBody=notification(bucket, snapshot))
    assert bucket.deliver().received == 1
    # Then it is the same run: the same repairs under the same ids
    runs = bucket.outcomes(RECONCILER.completed_detail_type)
    assert [(o["runId"], o["published"]) for o in runs] == [(completed["runId"], 2)] * 2
    # which the planner plans once, and the workers apply
    lifecycle.run()
    assert len(lifecycle.pipeline.outcomes_of_type("PlanStarted")) == 2
    assert state_of(cognito, pool, "e1")[1]["given_name"] == "Ada"
    assert state_of(cognito, pool, "stray")[0] is False

    # And once they did, the snapshot delivered again finds nothing to repair
    bucket.sqs.send_message(QueueUrl=bucket.function.queue.url, MessageBody=notification(bucket, snapshot))
    bucket.deliver()
    last = bucket.outcomes(RECONCILER.completed_detail_type)[-1]
    assert (last["published"], last["counts"]["unchanged"]) == (0, 39)


def notification(bucket: SnapshotBucket, snapshot: str) -> str:
    """S3's notification of the snapshot, as the rule delivers it to the function's queue."""
    detail = {"bucket": {"name": bucket.name}, "object": {"key": SNAPSHOT_KEY, "size": len(snapshot)}}
    event = {
        "version": "0",
        "id": "again",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "detail": detail,
    }
    return json.dumps(event)


def test_with_apply_snapshots_false_a_snapshot_is_a_dry_run_audited_and_nothing_is_published(
    own: LocalDeployment, empty_reconcile_pool: str, cognito: Any, sqs: Any
) -> None:
    seed(cognito, empty_reconcile_pool, "e1", "E1", "staff", given_name="Old")
    bucket = SnapshotBucket(own, sqs, apply=False)
    bucket.put(SNAPSHOT_KEY, HEADER + "E1,e1@example.com,Ada,staff\n")

    bucket.deliver()

    (dry_run,) = bucket.outcomes(RECONCILER.completed_detail_type)
    assert (dry_run["status"], dry_run["counts"]["mover"], dry_run["published"]) == ("DryRun", 1, 0)
    assert bucket.text(f"reports/{dry_run['runId']}.jsonl")  # the report to read before applying
    assert [take_all(sqs, f.queue.url) for f in own.planner_functions] == [[] for _ in own.planner_functions]


@pytest.mark.parametrize(
    ("key", "text", "size", "code", "reason"),
    [
        ("exports/hr.csv", HEADER, None, "OutsideSnapshotPrefix", "outside the snapshot prefix 'snapshots/'"),
        ("snapshots/hr 1.csv", HEADER, None, "SnapshotKeyNotPlain", "letters, digits and / . _ = - only"),
        ("snapshots/hr.csv", HEADER, 101 * 1024 * 1024, "SnapshotTooLarge", "over the 104857600 bytes"),
        ("snapshots/hr.xlsx", HEADER, None, "SnapshotRefused", "a snapshot is a .csv or a .jsonl"),
        ("snapshots/hr.csv", "email,givenName\nx@example.com,X\n", None, "SnapshotRefused", "employeeId"),
        ("snapshots/hr.csv", b"employeeId,email\n\xff\xfe\n", None, "SnapshotRefused", "not UTF-8"),
    ],
)
def test_an_object_the_reconciler_cannot_take_is_refused_dead_lettered_and_nothing_is_applied(
    bucket: SnapshotBucket,
    own: LocalDeployment,
    sqs: Any,
    key: str,
    text: str | bytes,
    size: int | None,
    code: str,
    reason: str,
) -> None:
    body = text.encode() if isinstance(text, str) else text
    if size is None:
        bucket.s3.put_object(Bucket=bucket.name, Key=key, Body=body)
    else:  # S3's notification of an object that size (the function refuses it before reading it)
        bucket.s3.put_object(Bucket=bucket.name, Key=key, Body=body)
        take_all(sqs, bucket.function.queue.url)
        detail = {"bucket": {"name": bucket.name}, "object": {"key": key, "size": size}}
        sqs.send_message(
            QueueUrl=bucket.function.queue.url,
            MessageBody=json.dumps({"id": "n-1", "detail-type": "Object Created", "detail": detail}),
        )

    report = bucket.deliver()

    # The record is not retried: refused once, with its reason in the DLQ and in the audit event
    assert (report.received, report.failed_message_ids) == (1, ())
    (refused,) = bucket.outcomes(RECONCILER.refused_detail_type)
    assert (refused["bucket"], refused["key"], refused["error"]["code"]) == (bucket.name, key, code)
    assert reason in refused["error"]["message"]
    (dead,) = sqs.receive_message(
        QueueUrl=bucket.function.queue.dead_letter_url, MessageAttributeNames=["All"]
    )["Messages"]
    assert dead["MessageAttributes"]["ErrorCode"]["StringValue"] == code
    assert reason in dead["MessageAttributes"]["ErrorMessage"]["StringValue"]
    # and nothing reached the planner, no report was written
    assert [take_all(sqs, f.queue.url) for f in own.planner_functions] == [[] for _ in own.planner_functions]
    listed = bucket.s3.list_objects_v2(Bucket=bucket.name, Prefix="reports/").get("Contents", [])
    assert listed == []


def test_a_snapshot_deleted_before_its_run_is_refused_not_retried(bucket: SnapshotBucket) -> None:
    bucket.put(SNAPSHOT_KEY, HEADER)
    bucket.s3.delete_object(Bucket=bucket.name, Key=SNAPSHOT_KEY)

    report = bucket.deliver()

    assert (report.received, report.failed_message_ids) == (1, ())
    (refused,) = bucket.outcomes(RECONCILER.refused_detail_type)
    assert refused["error"] == {"code": "SnapshotGone", "message": f"{SNAPSHOT_KEY}: no longer in the bucket"}


def test_a_held_run_is_audited_counted_for_its_alarm_and_released_by_the_operator_from_the_bucket(
    bucket: SnapshotBucket,
    cognito: Any,
    empty_reconcile_pool: str,
    lifecycle: Any,
    local_aws: LocalAws,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pool = empty_reconcile_pool
    for employee in ("e1", "e2", "e3"):
        seed(cognito, pool, employee, employee.upper(), "staff")
    # A snapshot that drops every managed user but one: two leavers of three, far over 5%
    bucket.put("snapshots/truncated.csv", HEADER + "E1,e1@example.com,,staff\n")
    capsys.readouterr()

    bucket.deliver()

    (held,) = bucket.outcomes(RECONCILER.held_detail_type)
    assert held["status"] == "Held"
    assert held["heldBecause"] == ["2 of 3 managed users would be deprovisioned, over 5%"]
    assert held["published"] == 0
    # The function counted it in the metric the held-run alarm watches (EMF on standard output)
    metrics = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')
    ]
    assert [m[RECONCILER.held_detail_type] for m in metrics if RECONCILER.held_detail_type in m] == [[1.0]]
    assert [m["action"] for m in metrics] == [RECONCILER.name]
    lifecycle.run()
    assert usernames(cognito, pool) == {"e1", "e2", "e3"}
    assert all(state_of(cognito, pool, name)[0] for name in ("e2", "e3"))

    # When the operator releases the run, named by the snapshot in the bucket
    uri = f"s3://{bucket.name}/snapshots/truncated.csv"
    options = ["--endpoint-url", local_aws.endpoint_url, "--prefix", "rec-tests"]
    code = main(["reconcile", uri, "--release", held["runId"], *options])

    # Then its repairs are published as the report keeps them, and run
    assert code == EXIT_OK
    assert "published 2 repairs for the planner (released)" in capsys.readouterr().out
    lifecycle.run()
    assert [state_of(cognito, pool, name)[0] for name in ("e1", "e2", "e3")] == [True, False, False]
