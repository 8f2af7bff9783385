"""The whole pipeline in a process of its own, as a fleet of Lambda environments that can be killed:
`python -m chaos.drain_process` reads a LocalDeployment as JSON on stdin, drains every queue, prints the
pipeline's counters as JSON and exits. The chaos runner kills it mid-batch (SIGKILL) and starts another."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from local_aws.deployment import LocalDeployment, QueuePair
from local_aws.pipeline import EventSourceTuning, LocalPipeline
from operator_cli.local import quiet_local_workers

# A killed invocation's idempotency records stay in progress until its deadline. A visibility timeout of six
# times the function timeout, as the stack sets (DESIGN section 6), lets the redelivery find them expired;
# the timeout is as short as the workers' 10 s deadline margin allows, so that recovery takes 90 s, not 180.
FUNCTION_TIMEOUT_SECONDS = 15
VISIBILITY_TIMEOUT_SECONDS = 6 * FUNCTION_TIMEOUT_SECONDS
DRAIN_TIMEOUT_SECONDS = 1800


def deployment_to_json(deployment: LocalDeployment) -> str:
    return json.dumps(dataclasses.asdict(deployment))


def deployment_from_json(text: str) -> LocalDeployment:
    fields: dict[str, Any] = json.loads(text)
    return LocalDeployment(
        **{
            **fields,
            "planner_queue": QueuePair(**fields["planner_queue"]),
            "queues": {action: QueuePair(**pair) for action, pair in fields["queues"].items()},
        }
    )


def main() -> None:
    deployment = deployment_from_json(sys.stdin.readline())
    quiet_local_workers()
    tuning = EventSourceTuning(timeout_seconds=FUNCTION_TIMEOUT_SECONDS)
    stats = LocalPipeline.for_deployment(deployment, tuning=tuning).drain(timeout_s=DRAIN_TIMEOUT_SECONDS)
    print(json.dumps({"records_received": stats.records_received}), flush=True)


if __name__ == "__main__":
    main()
