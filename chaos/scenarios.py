"""Scenarios: the demo's roster (every joiner invited) and poison commands through the local pipeline,
one kind of fault per scenario; then, the cause fixed, every DLQ redriven (StartMessageMoveTask) and the
pipeline drained again, as an operator would; then the action tour with its passwords, sessions and
tokens; then the invariants.

Invariants, per scenario:
- lost: roster people whose end state in the pool differs from the roster's model (a command lost on the
  way always shows there: every step changes the user or gates a step that does), plus joiners whose
  invitation never went out;
- duplicated effects: commands applied more than once (an idempotency key with more than one
  ActionSucceeded) and joiners invited more than once (counted by the local server, as Cognito does not
  deduplicate invitations);
- in DLQ: the distinct inputs in every dead-letter queue after the redrive, against what the scenario
  sends that must end there (the roster's malformed HR events and the poison commands mixed in); what else
  was dead-lettered before the redrive is listed with its reason. A consumer killed between dead-lettering
  a record and deleting it dead-letters it again on redelivery (SQS delivers at least once): the copies
  are one input, counted once and listed;
- secrets found: the tour's passwords and session, and any JWT, in any log line, outcome event, DLQ
  message (body and attributes) or idempotency or lifecycle record.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from chaos import drain_process
from chaos.faults import FaultInjector, FaultPlan
from cognito_workers.catalog import PLANNER
from cognito_workers.clients import AwsClients
from cognito_workers.consumer import QueueConsumer
from cognito_workers.observability import logger
from local_aws.demo import run_tour
from local_aws.deployment import SANDBOX_GROUPS, LocalDeployment, provision
from local_aws.pipeline import FunctionStats, quiet_local_workers
from local_aws.roster import Roster, generate_roster, verify_pool
from local_aws.server import LocalAws, start_local_aws
from operator_cli.drift import drift_and_reconcile
from operator_cli.local import pipeline_drain, run_roster

# The local deployment's visibility timeout: a failed record is back on its queue after this.
VISIBILITY_TIMEOUT_SECONDS = 5
POISON_ACTION = "AdminAddUserToGroup"
POISON_COMMANDS = (
    "not json at all",
    json.dumps({"action": POISON_ACTION}),  # no params
    json.dumps({"action": POISON_ACTION, "params": {"Username": "x", "GroupName": 7}}),
    json.dumps({"action": POISON_ACTION, "params": {"Username": "'; DROP TABLE users;--", "GroupName": "g"}}),
    json.dumps({"action": "AdminDeleteUser", "params": {"Username": "x"}}),  # on the wrong queue
)
SECRET_PARAM_KEYS = frozenset({"PASSWORD", "NEW_PASSWORD", "TemporaryPassword", "Session"})
JWT = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")


@dataclass(frozen=True)
class Scenario:
    """`quota_scale`: Cognito's quotas at that share of their rates, where the local pipeline (slower than
    Cognito) would never reach them at full rate, and the stack's quota budget provisioned at the same
    rates; `shuffled`: the roster's HR events are published in a random order (each carries its
    `sequence`);
    `kills`: the pipeline runs in a process of its own, SIGKILLed `kills` times, `kill_after_seconds`
    after each start, then restarted to drain; `reconciled`: after the roster, the pool is drifted by hand
    and reconciled as the demo does (operator_cli/drift.py), its reads and its repairs under the same
    faults (the kills again), and the pool must then match the snapshot."""

    name: str
    faults: FaultPlan = dataclasses.field(default_factory=FaultPlan)
    enforce_quotas: bool = False
    quota_scale: float = 1.0
    shuffled: bool = False
    kills: int = 0
    kill_after_seconds: float = 10
    reconciled: bool = False


SCENARIOS = (
    Scenario("no faults"),
    Scenario("throttling storm: 50% of Cognito calls", FaultPlan(throttle_share=0.5)),
    Scenario("Cognito's quotas enforced at a fifth of their rates", enforce_quotas=True, quota_scale=0.2),
    Scenario("5xx answers: 10% of Cognito calls", FaultPlan(server_error_share=0.1)),
    Scenario(
        "timeouts after apply 10%, resets 10%", FaultPlan(timeout_after_apply_share=0.1, reset_share=0.1)
    ),
    Scenario("every command delivered three times", FaultPlan(command_copies=3)),
    Scenario("the pipeline's process killed mid-batch 3 times", kills=3),
    Scenario(
        "out of order: HR events shuffled, 10% of commands again 8 s late",
        FaultPlan(late_copy_share=0.1),
        shuffled=True,
    ),
    Scenario(
        "reconciled in a throttling storm: 50% of Cognito calls",
        FaultPlan(throttle_share=0.5),
        reconciled=True,
    ),
    Scenario("reconciled, the pipeline's process killed mid-batch 3 times", kills=3, reconciled=True),
)
# The reconciler's reads retry throttling more than the workers' 3 attempts: a run that gives up is run
# again whole (SQS redelivers its object-created event), which a storm would make the rule.
RECONCILER_READS = Config(retries={"mode": "standard", "max_attempts": 10})


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    commands: int
    deliveries: int
    faults_injected: int
    lost: int
    duplicated_effects: int
    dead_lettered: int
    expected_dead_lettered: int
    redriven: int
    secrets_known: int
    artifacts_scanned: int
    secrets_found: int
    seconds: float
    findings: tuple[str, ...]

    @property
    def holds(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated_effects == 0
            and self.dead_lettered == self.expected_dead_lettered
            and self.secrets_found == 0
        )


def run_in_own_process(
    index: int, joiners: int, *, batching_window_seconds: int | None = None
) -> ScenarioResult:
    """SCENARIOS[index] in a fresh Python process, as a fresh set of Lambda environments: nothing a handler
    module keeps (clients, settings) carries over from one scenario's local AWS to the next.
    `batching_window_seconds` replaces the stack's batching windows (the small runs of `make test`)."""
    window = [] if batching_window_seconds is None else [str(batching_window_seconds)]
    answer = subprocess.run(
        [sys.executable, "-m", "chaos.scenarios", str(index), str(joiners), *window],
        capture_output=True,
        text=True,
        check=True,
    )
    fields = json.loads(answer.stdout.splitlines()[-1])
    return ScenarioResult(**{**fields, "findings": tuple(fields["findings"])})


def run_scenario(
    scenario: Scenario, joiners: int, seed: int = 7, *, batching_window_seconds: int | None = None
) -> ScenarioResult:
    quiet_local_workers("DEBUG")  # every line the workers can log is scanned for secrets
    roster = _every_joiner_invited(generate_roster(joiners, groups=SANDBOX_GROUPS, seed=seed))
    if scenario.shuffled:
        roster = dataclasses.replace(
            roster, events=random.Random(seed).sample(roster.events, len(roster.events))
        )
    with start_local_aws() as aws, _captured_logs() as logs:
        aws.export_environment()
        deployment = (
            provision(
                aws.endpoint_url,
                aws.region,
                visibility_timeout_seconds=drain_process.VISIBILITY_TIMEOUT_SECONDS,
                function_timeout_seconds=drain_process.FUNCTION_TIMEOUT_SECONDS,
                batching_window_seconds=batching_window_seconds,
            )
            if scenario.kills
            else provision(
                aws.endpoint_url,
                aws.region,
                # the budget paces at the rates the local server enforces
                quota_scale=scenario.quota_scale if scenario.enforce_quotas else None,
                visibility_timeout_seconds=VISIBILITY_TIMEOUT_SECONDS,
                batching_window_seconds=batching_window_seconds,
            )
        )
        injector = FaultInjector(
            scenario.faults,
            seed,
            queue_urls={action: queues.url for action, queues in deployment.queues.items()},
        )
        aws.enforce_quotas(scenario.enforce_quotas, scenario.quota_scale)
        _send_poison(deployment)

        def faulty_clients(consumer: QueueConsumer[Any]) -> None:
            consumer.clients = AwsClients(injector.session(copies_commands=consumer.name == PLANNER.name))

        drain = _KillingDrain(deployment, scenario.kills, scenario.kill_after_seconds)
        faulty_drain = drain if scenario.kills else pipeline_drain(deployment, faulty_clients)
        outcomes, stats, seconds = run_roster(deployment, roster, faulty_drain)
        joiners_invited = list(roster.expected)  # the roster's people: a reconciliation invites no one
        if scenario.reconciled:
            drain.kills_left = scenario.kills
            reads = injector.session().client("cognito-idp", config=RECONCILER_READS)
            expected = drift_and_reconcile(deployment, roster, faulty_drain, reads=reads, outcomes=outcomes)
            roster = dataclasses.replace(roster, expected=expected)
        # The cause is fixed (faults and quotas off); the operator redrives every DLQ and the pipeline
        # drains again: what a passing cause dead-lettered applies now, poison comes back to the DLQ.
        throttled = sum(aws.quota_report().throttled.values())  # switching quotas off resets the counts
        aws.enforce_quotas(False)
        first_dead_letters = _dead_letters(deployment)
        redriven = _redrive_every_dead_letter_queue(deployment)
        stats += pipeline_drain(deployment)()
        outcomes.collect()
        problems = verify_pool(boto3.client("cognito-idp"), deployment.user_pool_id, roster.expected)
        invitations = {username: sent.invitations for (_, username), sent in aws.delivery_counts().items()}
        secrets, tour_outcomes = _run_tour(aws, deployment)
        outcomes.collect()
        dead_letters = _dead_letters(deployment)
        records = _table_items(deployment)
    action_outcomes = [event for event in outcomes.events if event["detail-type"].startswith("Action")]
    applied = Counter(
        event["detail"]["idempotencyKey"]
        for event in action_outcomes
        if event["detail-type"] == "ActionSucceeded"
    )
    artifacts = [
        *logs.getvalue().splitlines(),
        *map(json.dumps, [*outcomes.events, *tour_outcomes]),
        *dead_letters,
        *records,
    ]
    leaks = [artifact for artifact in artifacts if _has_secret(artifact, secrets)]
    dead_letter_bodies = [json.loads(message)["Body"] for message in dead_letters]
    copies = Counter(dead_letter_bodies)
    lost_people = {problem.split(":", 1)[0] for problem in problems}
    uninvited = [name for name in joiners_invited if invitations.get(name, 0) == 0]
    twice_applied = [key for key, count in applied.items() if count > 1]
    twice_invited = [name for name, count in invitations.items() if count > 1]
    return ScenarioResult(
        scenario=scenario.name,
        commands=len({event["detail"]["idempotencyKey"] for event in action_outcomes}),
        deliveries=stats.records_received,
        faults_injected=sum(injector.injected.values()) + throttled + drain.killed,
        lost=len(lost_people) + len(uninvited),
        duplicated_effects=len(twice_applied) + len(twice_invited),
        dead_lettered=len(set(dead_letter_bodies)),
        expected_dead_lettered=roster.malformed + len(POISON_COMMANDS),
        redriven=redriven,
        secrets_known=len(secrets),
        artifacts_scanned=len(artifacts),
        secrets_found=len(leaks),
        seconds=seconds,
        findings=tuple(
            [*problems[:5], *(f"uninvited {name}" for name in uninvited[:5])]
            + [f"applied twice {key}" for key in twice_applied[:5]]
            + [f"invited twice {name}" for name in twice_invited[:5]]
            + [f"secret in: {leak[:200]}" for leak in leaks[:5]]
            + [f"before the redrive, {reason}" for reason in _unforeseen_dead_letters(first_dead_letters)]
            + [f"dead-lettered {count} times: {body[:150]}" for body, count in copies.items() if count > 1]
        ),
    )


class _KillingDrain:
    """Drains with the pipeline in a process of its own. While `kills_left`, that many processes are started
    and SIGKILLed `kill_after_seconds` after each start before one is let drain (a later drain kills again
    if `kills_left` is set again); deliveries count the drained runs only (a killed process reports
    nothing)."""

    def __init__(self, deployment: LocalDeployment, kills: int, kill_after_seconds: float) -> None:
        self._deployment = deployment
        self.kills_left = kills
        self._kill_after_seconds = kill_after_seconds
        self.killed = 0  # kills that landed while the process was still working

    def __call__(self) -> FunctionStats:
        for _ in range(self.kills_left):
            process = self._start()
            time.sleep(self._kill_after_seconds)
            self.killed += process.poll() is None
            process.send_signal(signal.SIGKILL)
            process.wait()
        self.kills_left = 0
        process = self._start()
        assert process.stdout is not None
        try:
            output = process.stdout.read()
        finally:
            process.kill()  # a no-op once it has exited; else the runner is failing and must not leave it
            process.wait()
        if process.returncode != 0:
            raise RuntimeError(f"the pipeline process failed with exit code {process.returncode}")
        return FunctionStats(records_received=int(json.loads(output.splitlines()[-1])["records_received"]))

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "chaos.drain_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None
        process.stdin.write(self._deployment.to_json() + "\n")
        process.stdin.close()
        return process


def _every_joiner_invited(roster: Roster) -> Roster:
    """Invitations are the effect Cognito does not deduplicate: send one to every joiner."""
    events = [
        dataclasses.replace(event, detail={**event.detail, "sendInvitation": True})
        if event.detail_type == "EmployeeOnboarded" and "email" in event.detail
        else event
        for event in roster.events
    ]
    return dataclasses.replace(roster, events=events)


@contextmanager
def _captured_logs() -> Iterator[io.StringIO]:
    """Every line the workers log, as Powertools formats it for CloudWatch."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    printing = logger.registered_handler
    printing_level = printing.level
    printing.setLevel(logging.CRITICAL + 1)  # captured, not printed: stdout carries the result
    logger.addHandler(handler)
    try:
        yield captured
    finally:
        logging.getLogger(logger.name).removeHandler(handler)  # Powertools' Logger has no removeHandler
        printing.setLevel(printing_level)


def _send_poison(deployment: LocalDeployment) -> None:
    sqs = boto3.client("sqs")
    for body in POISON_COMMANDS:
        sqs.send_message(QueueUrl=deployment.queues[POISON_ACTION].url, MessageBody=body)


def _run_tour(aws: LocalAws, deployment: LocalDeployment) -> tuple[set[str], list[dict[str, Any]]]:
    """Run the action tour: the secret values its commands sent, and its outcome events."""
    secrets: set[str] = set()
    tour_outcomes = []
    for _, params, outcome in run_tour(aws, deployment):
        secrets.update(_secret_values(params))
        tour_outcomes.append(outcome)
    return secrets, tour_outcomes


def _secret_values(value: Any, key: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for inner_key, inner in value.items():
            yield from _secret_values(inner, inner_key)
    elif isinstance(value, str) and key in SECRET_PARAM_KEYS:
        yield value


def _has_secret(artifact: str, secrets: set[str]) -> bool:
    return JWT.search(artifact) is not None or any(secret in artifact for secret in secrets)


def _dead_letters(deployment: LocalDeployment) -> list[str]:
    """Every DLQ message, body and attributes, as JSON; each is visible again afterwards."""
    sqs = boto3.client("sqs")
    found: list[str] = []
    for queues in (function.queue for function in deployment.functions.values()):
        read = []
        while messages := sqs.receive_message(
            QueueUrl=queues.dead_letter_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
            VisibilityTimeout=600,  # out of sight until every message is read once
        ).get("Messages", []):
            read.extend(messages)
        for start in range(0, len(read), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=queues.dead_letter_url,
                Entries=[
                    {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                    for number, message in enumerate(read[start : start + 10])
                ],
            )
        found.extend(json.dumps(message) for message in read)
    return found


def _unforeseen_dead_letters(dead_letters: list[str]) -> list[str]:
    """The reason of each dead letter that is neither poison nor a malformed HR event: the consumer's
    ErrorCode and ErrorMessage, or SQS's own move after maxReceiveCount (no reason; the body says which)."""
    reasons = []
    for text in dead_letters:
        message = json.loads(text)
        attributes = message.get("MessageAttributes", {})
        code = attributes.get("ErrorCode", {}).get("StringValue", "moved by SQS after maxReceiveCount")
        if message["Body"] in POISON_COMMANDS or code == "InvalidEvent":
            continue
        detail = attributes.get("ErrorMessage", {}).get("StringValue") or message["Body"][:150]
        reasons.append(f"dead letter: {code}: {detail}")
    return reasons


def _redrive_every_dead_letter_queue(deployment: LocalDeployment) -> int:
    """StartMessageMoveTask from every DLQ back to its queue, as `cognito-lifecycle dlq redrive` does."""
    sqs = boto3.client("sqs")
    moved = 0
    for queues in (function.queue for function in deployment.functions.values()):
        sqs.start_message_move_task(SourceArn=queues.dead_letter_arn, DestinationArn=queues.arn)
        (task,) = sqs.list_message_move_tasks(SourceArn=queues.dead_letter_arn, MaxResults=1)["Results"]
        moved += task.get("ApproximateNumberOfMessagesMoved", 0)
    return moved


def _table_items(deployment: LocalDeployment) -> list[str]:
    dynamodb = boto3.client("dynamodb")
    items: list[str] = []
    for table in (deployment.idempotency_table_name, deployment.lifecycle_table_name):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items.extend(json.dumps(item) for item in page["Items"])
    return items


if __name__ == "__main__":
    window = int(sys.argv[3]) if len(sys.argv) > 3 else None
    result = run_scenario(SCENARIOS[int(sys.argv[1])], int(sys.argv[2]), batching_window_seconds=window)
    print(json.dumps(dataclasses.asdict(result)))
