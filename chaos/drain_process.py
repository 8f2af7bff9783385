"""The whole pipeline in a process of its own, as a fleet of Lambda environments that can be killed:
`python -m chaos.drain_process` reads a LocalDeployment as JSON on stdin (provisioned with
FUNCTION_TIMEOUT_SECONDS and VISIBILITY_TIMEOUT_SECONDS), drains every queue, prints the
pipeline's counters as JSON and exits. The chaos runner kills it mid-batch (SIGKILL) and starts another."""

from __future__ import annotations

import json
import sys

from local_aws.deployment import LocalDeployment
from local_aws.pipeline import LocalPipeline, quiet_local_workers

# A killed invocation's idempotency records stay in progress until its deadline. A visibility timeout of six
# times the function timeout, as the stack sets (AWS's guidance for SQS event sources), lets the redelivery
# find them expired; the timeout is as short as the workers' 10 s deadline margin allows, so that recovery
# takes 90 s, not 180.
FUNCTION_TIMEOUT_SECONDS = 15
VISIBILITY_TIMEOUT_SECONDS = 6 * FUNCTION_TIMEOUT_SECONDS
DRAIN_TIMEOUT_SECONDS = 1800


def main() -> None:
    deployment = LocalDeployment.from_json(sys.stdin.readline())
    quiet_local_workers()
    stats = LocalPipeline.for_deployment(deployment).drain(timeout_s=DRAIN_TIMEOUT_SECONDS)
    print(json.dumps({"records_received": stats.records_received}), flush=True)


if __name__ == "__main__":
    main()
