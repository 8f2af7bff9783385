"""The local server's request counts, over HTTP from boto3 clients as the pipeline makes them."""

from __future__ import annotations

from collections import Counter

import boto3

from local_aws.server import FAKE_CREDENTIALS, start_local_aws


def test_the_server_counts_each_request_by_its_operation_until_reset() -> None:
    with start_local_aws() as aws:  # a server of its own: the shared one counts every other test too
        session = boto3.session.Session(
            region_name=aws.region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        dynamodb = session.client("dynamodb", endpoint_url=aws.endpoint_url)
        sqs = session.client("sqs", endpoint_url=aws.endpoint_url)
        scheduler = session.client("scheduler", endpoint_url=aws.endpoint_url)
        dynamodb.list_tables()
        dynamodb.list_tables()
        sqs.list_queues()
        scheduler.list_schedules()  # REST: counted by method and path

        counted = aws.request_counts()
        aws.reset_request_counts()
        sqs.list_queues()

        assert counted == Counter({"ListTables": 2, "ListQueues": 1, "GET /schedules": 1})
        assert aws.request_counts() == Counter({"ListQueues": 1})
