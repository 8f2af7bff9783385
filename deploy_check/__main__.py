"""`python -m deploy_check --ministack .venv-ministack/bin/ministack`: deploy cdk.out's template (a copy, with
named edits) on MiniStack and drive it end to end; print the result table; exit 1 on any difference.

Exit codes: 0 every check held, 1 a check failed or the deployment could not run, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chaos.scenarios import POISON_ACTION, POISON_COMMANDS
from cognito_workers.catalog import PLANNER, ResourceNames
from cognito_workers.lifecycle.schedules import schedule_name
from deploy_check import DeployCheckProblem
from deploy_check.assets import bootstrap, file_assets, publish_assets
from deploy_check.layer import build_layer, publish_layer
from deploy_check.ministack import MiniStack, free_port, interpreter, running_ministack
from deploy_check.outcomes import OutcomeLog
from deploy_check.queues import FunctionQueues, dead_letter_checks, stack_queues, undrained
from deploy_check.report import Check, failed, render
from deploy_check.roster import (
    MALFORMED,
    REHIRE,
    REHIRED,
    ROSTER,
    SETTLE_TIMEOUT_SECONDS,
    leaver_completed,
    outcome_checks,
    pool_checks,
    publish,
    roster_settled,
    send_poison,
)
from deploy_check.stack import deploy
from deploy_check.stand_in import SERVED_ACTION, serving_list_devices
from deploy_check.template import (
    Template,
    bootstrap_version_parameter,
    cognito_stand_in_edits,
    read_template,
    referenced_layers,
    unknown_resource_edits,
)
from deploy_check.tour import run_tour, unserved_actions
from local_aws.context import cdk_context
from local_aws.demo import NEW_PASSWORD, TEMPORARY_PASSWORD, Demo
from local_aws.deployment import OUTCOME_SOURCE, LocalDeployment
from local_aws.server import LocalAws
from local_aws.template import edited

REPOSITORY = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
# How long past its visibility timeout a queue still holding a message is waited for: a step the planner
# published twice can run in two invocations at once, and the copy that found the other in progress comes
# back only when that timeout ends (it is then skipped as applied).
DRAIN_MARGIN_SECONDS = 30
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ministack", type=Path, required=True, help="the ministack executable of its venv")
    parser.add_argument("--cdk-out", type=Path, default=REPOSITORY / "cdk.out", help="the synthesized app")
    parser.add_argument("--port", type=int, default=0, help="MiniStack's loopback port (default: a free one)")
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="the layer cache and MiniStack's log (default: beside the ministack venv)",
    )
    return parser


class Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:5.1f} s] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    progress = Progress()
    try:
        checks = run(args, progress)
    except KeyboardInterrupt:
        print("deploy-check: interrupted; MiniStack and its processes are stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DeployCheckProblem as problem:
        print(f"deploy-check: {problem}", file=sys.stderr)
        return EXIT_FAILED
    except (ClientError, BotoCoreError) as error:
        print(f"deploy-check: MiniStack refused a call: {error}", file=sys.stderr)
        return EXIT_FAILED
    print()
    print(render(checks))
    problems = failed(checks)
    progress(f"{len(checks)} checks, {len(problems)} failed")
    return EXIT_FAILED if problems else EXIT_OK


def run(args: argparse.Namespace, progress: Progress) -> list[Check]:
    context = cdk_context()
    stack_name: str = context["stackName"]
    names = ResourceNames(context["resourcePrefix"])
    work_dir: Path = args.work_dir or args.ministack.resolve().parents[1] / "deploy-check"
    template = read_template(args.cdk_out / f"{stack_name}.template.json")

    progress("building the Powertools stand-in layer from requirements.txt (cached per its content)")
    layer_zip = build_layer(interpreter(args.ministack), REPOSITORY / "requirements.txt", work_dir)
    port = args.port or free_port()
    log = work_dir / "ministack.log"  # the last run's
    progress(f"starting MiniStack on 127.0.0.1:{port} (its log: {log})")
    with running_ministack(args.ministack, port=port, log=log) as ministack:
        aws = Emulator(ministack.endpoint_url, _session("testing"))
        unserved = unserved_actions(aws.session, aws.endpoint_url)
        for action, reason in unserved.items():
            progress(f"not served: {action}: {reason}")
        with _stand_in_if_needed(aws.client("cognito-idp"), unserved) as stand_in_url:
            edits = unknown_resource_edits(template)
            if stand_in_url:
                edits += cognito_stand_in_edits(template, {SERVED_ACTION}, stand_in_url)
            for edit in edits:
                progress(f"template copy: {edit}")
            copy = edited(template, edits)
            _bootstrap_and_publish(
                aws, args.cdk_out / f"{stack_name}.assets.json", template, layer_zip, progress
            )
            bucket = f"cdk-hnb659fds-assets-{aws.account}-{REGION}"
            deployed = deploy(
                aws.client("cloudformation"), aws.client("s3"),
                stack_name=stack_name, template=copy, bucket=bucket, region=REGION,
            )  # fmt: skip
            progress(
                f"CreateStack {stack_name}: {deployed.statuses.total()} resources in {deployed.seconds:.1f} s"
            )
            checks = [
                Check.compare(
                    "deploy: resources CREATE_COMPLETE",
                    len(copy["Resources"]),
                    deployed.statuses["CREATE_COMPLETE"],
                )
            ]
            checks += _drive(aws, ministack, names, deployed.outputs, unserved, progress)
    return checks


@dataclass(frozen=True)
class StackView:
    """What the action tour reads of a deployment, from the deployed stack's outputs."""

    user_pool_id: str
    app_client_id: str
    event_bus_name: str
    outcomes_queue_url: str


def _session(access_key_id: str) -> boto3.session.Session:
    """Without AUTH=true MiniStack takes any credentials; a 12-digit access key id is the caller's account
    (the layer's owner publishes it), any other means its default account."""
    return boto3.session.Session(
        region_name=REGION, aws_access_key_id=access_key_id, aws_secret_access_key="testing"
    )


@dataclass(frozen=True)
class Emulator:
    endpoint_url: str
    session: boto3.session.Session

    def client(self, service: str, session: boto3.session.Session | None = None) -> Any:
        return (session or self.session).client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    @property
    def account(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])


@contextlib.contextmanager
def _stand_in_if_needed(cognito: Any, unserved: dict[str, str]) -> Iterator[str | None]:
    """The AdminListDevices stand-in (deploy_check/stand_in.py) while MiniStack lacks the action."""
    if SERVED_ACTION not in unserved:
        yield None
        return
    with serving_list_devices(cognito) as url:
        yield url


def _bootstrap_and_publish(
    aws: Emulator, manifest: Path, template: Template, layer_zip: Path, progress: Progress
) -> None:
    """What `cdk bootstrap` and `cdk deploy` do before CreateStack, and the public layer's stand-in."""
    assets = file_assets(manifest, account=aws.account, region=REGION)
    version_parameter = bootstrap_version_parameter(template)
    bootstrap(
        aws.client("s3"), aws.client("ssm"),
        buckets={asset.bucket for asset in assets}, version_parameter=version_parameter,
    )  # fmt: skip
    publish_assets(aws.client("s3"), assets)
    progress(
        f"bootstrapped (asset bucket, {version_parameter}) and published {len(assets)} assets "
        f"({', '.join(sorted(asset.key for asset in assets))})"
    )
    for layer in sorted(referenced_layers(template, region=REGION, account=aws.account), key=str):
        publish_layer(aws.client("lambda", _session(layer.account)), layer, layer_zip)
        progress(f"published the layer stand-in as {layer.arn}")


def _drive(
    aws: Emulator,
    ministack: MiniStack,
    names: ResourceNames,
    outputs: dict[str, str],
    unserved: dict[str, str],
    progress: Progress,
) -> list[Check]:
    sqs, events, cognito = aws.client("sqs"), aws.client("events"), aws.client("cognito-idp")
    queues = stack_queues(sqs, names)
    outcomes = OutcomeLog(
        sqs,
        events,
        bus=outputs["EventBusName"],
        name=f"{names.prefix}-deploy-check-outcomes",
        source=OUTCOME_SOURCE,
    )
    progress(f"check-time addition (not in the template): {outcomes.addition}")
    demo = Demo(
        # LocalAws's own tooling (devices under /_local/) is the moto server's: the tour's device steps,
        # the only ones that use it, are not sent here since MiniStack serves none of their actions.
        local_aws=LocalAws(aws.endpoint_url, REGION, ministack.process),
        # The tour's steps read four things of a deployment: the pool, its app client, the bus and the
        # outcomes queue. A LocalDeployment describes what the local AWS provisioned; the stack's view
        # stands for it.
        deployment=cast(
            LocalDeployment,
            StackView(
                user_pool_id=outputs["UserPoolId"],
                app_client_id=outputs["SandboxAdminClientId"],
                event_bus_name=outputs["EventBusName"],
                outcomes_queue_url=outcomes.queue_url,
            ),
        ),
        cognito=cognito,
        events=events,
        sqs=sqs,
        device_keys=[],
    )
    progress("the action tour (local_aws.demo's steps) through the bus")
    checks = run_tour(demo, outcomes, unserved)
    progress("the HR roster through the planner, and poison commands straight onto a queue")
    refused = publish(events, outputs["EventBusName"], [*ROSTER, MALFORMED])
    poison_message_ids = send_poison(sqs, queues[POISON_ACTION].url)
    if outcomes.wait_until(leaver_completed(REHIRED), SETTLE_TIMEOUT_SECONDS):
        checks.append(
            Check.compare(
                f"leaver {REHIRED}: deletion scheduled in 30 days",
                schedule_name(REHIRED),
                _schedules(aws.client("scheduler"), outputs["DeletionScheduleGroupName"]),
            )
        )
        refused += publish(events, outputs["EventBusName"], [REHIRE])
    else:
        progress(
            f"{REHIRED}'s leaver plan had not completed after {SETTLE_TIMEOUT_SECONDS} s: no rehire sent"
        )
    checks.append(Check.compare("roster: HR events the bus refused", 0, refused))
    if not outcomes.wait_until(roster_settled(poison_message_ids), SETTLE_TIMEOUT_SECONDS):
        progress(f"the roster's outcomes were not all in after {SETTLE_TIMEOUT_SECONDS} s")
    checks += outcome_checks(outcomes.events, poison_message_ids)
    checks.append(Check.compare("every queue drained", "all empty", _wait_until_drained(sqs, queues)))
    checks += pool_checks(cognito, outputs["UserPoolId"])
    checks.append(
        Check.compare(
            "rehires: deletion schedules left",
            "none",
            _schedules(aws.client("scheduler"), outputs["DeletionScheduleGroupName"]),
        )
    )
    checks += dead_letter_checks(sqs, queues, {PLANNER.name: 1, POISON_ACTION: len(POISON_COMMANDS)}, names)
    checks.append(_secrets_check(outcomes, ministack))
    return checks


def _wait_until_drained(sqs: Any, queues: dict[str, FunctionQueues]) -> str:
    """Until every queue is empty, or a queue still holds a message past its visibility timeout (as the
    stack deployed it) and the margin."""
    started = time.monotonic()
    timeouts: dict[str, int] = {}  # by function, read once
    while remaining := undrained(sqs, queues):
        for function in remaining.keys() - timeouts.keys():
            timeouts[function] = _visibility_timeout(sqs, queues[function].url)
        if (
            time.monotonic() - started
            > max(timeouts[function] for function in remaining) + DRAIN_MARGIN_SECONDS
        ):
            return "; ".join(f"{function}: {depth}" for function, depth in remaining.items())
        time.sleep(1)
    return "all empty"


def _visibility_timeout(sqs: Any, url: str) -> int:
    answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    return int(answer["Attributes"]["VisibilityTimeout"])


def _schedules(scheduler: Any, group: str) -> str:
    pages = scheduler.get_paginator("list_schedules").paginate(GroupName=group)
    return ", ".join(schedule["Name"] for page in pages for schedule in page["Schedules"]) or "none"


def _secrets_check(outcomes: OutcomeLog, ministack: MiniStack) -> Check:
    """The tour's passwords must appear in no outcome event and nowhere in MiniStack's log, which holds
    every function's output."""
    places = {
        "outcome events": json.dumps(outcomes.events),
        "MiniStack's log": ministack.log.read_text(errors="replace"),
    }
    found = [place for place, text in places.items() if TEMPORARY_PASSWORD in text or NEW_PASSWORD in text]
    return Check.compare("the tour's passwords in outcomes and logs", "absent", ", ".join(found) or "absent")


if __name__ == "__main__":
    sys.exit(main())
