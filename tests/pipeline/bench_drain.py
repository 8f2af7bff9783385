"""How fast the local pipeline drains AdminCreateUser commands:
`python -m tests.pipeline.bench_drain [COMMANDS [MAXIMUM_CONCURRENCY]]` (300, 2).

A measurement to print, not a test: the rate depends on the machine.
"""

from __future__ import annotations

import json
import os
import sys
import time

import boto3

ACTION = "AdminCreateUser"


def main(commands: int = 300, maximum_concurrency: int = 2) -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    # The workers' logger reads the environment when it is imported.
    from local_aws.deployment import provision
    from local_aws.pipeline import EventSourceTuning, LocalPipeline, action_function
    from local_aws.server import start_local_aws

    with start_local_aws() as aws:
        aws.export_environment()
        deployment = provision(aws.endpoint_url, aws.region)
        sqs = boto3.client("sqs")
        for start in range(0, commands, 10):
            sqs.send_message_batch(
                QueueUrl=deployment.queues[ACTION].url,
                Entries=[
                    {
                        "Id": str(number),
                        "MessageBody": json.dumps(
                            {
                                "action": ACTION,
                                "params": {"Username": f"bench-{number}", "MessageAction": "SUPPRESS"},
                            }
                        ),
                    }
                    for number in range(start, min(start + 10, commands))
                ],
            )
        tuning = EventSourceTuning(maximum_concurrency=maximum_concurrency)
        pipeline = LocalPipeline([action_function(deployment, ACTION, tuning=tuning)])
        started = time.perf_counter()
        stats = pipeline.drain(timeout_s=600)
        elapsed = time.perf_counter() - started
        users = (
            boto3.client("cognito-idp")
            .get_paginator("list_users")
            .paginate(UserPoolId=deployment.user_pool_id)
        )
        created = sum(len(page["Users"]) for page in users)
    print(
        f"{commands} {ACTION} commands, maximum concurrency {maximum_concurrency}: {elapsed:.1f} s, "
        f"{commands / elapsed:.1f} commands/s ({stats.invocations} invocations, {stats.records_succeeded} "
        f"succeeded, {stats.records_failed} failed, {stats.errors} errors; {created} users in the pool)"
    )


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
