"""The IAM the template grants against what the code calls: every call a function made is allowed by its
role, and every action its role grants was called, or is named in NOT_CALLED_LOCALLY with the reason.

The calls are the local server's access log (access_log.py) after the action tour and a small HR roster,
each function signing as itself. Statements are evaluated as IAM does for one principal's identity
policies: an explicit Deny wins, an Allow needs its action, resource and conditions to match (the wildcards
* and ?, and the condition operators StringEquals, StringLike, ArnEquals and ArnLike; a condition on a key
the call does not carry does not match).

    python -m local_aws.iam_check    # runs the tour and the roster locally; prints the README's table
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from local_aws.access_log import Call
from local_aws.deployment import LocalDeployment

# Granted actions the local runs do not call, and why the role needs them all the same.
_LAMBDA_LOGS = "the Lambda service writes the function's logs (locally they go to standard error)"
_XRAY = "the Lambda environment's X-Ray daemon sends the traces (no X-Ray locally)"
_KMS = (
    "SQS and DynamoDB use the stack's key as the function to read and write its encrypted queues and tables"
)
_OUTBOX = (
    "the planner's lock-out lane schedules a deletion only when it publishes the outbox of a transition of"
    " the planner's that crashed before publishing it"
)
NOT_CALLED_LOCALLY: Mapping[str, str] = {
    "logs:CreateLogStream": _LAMBDA_LOGS,
    "logs:PutLogEvents": _LAMBDA_LOGS,
    "xray:PutTraceSegments": _XRAY,
    "xray:PutTelemetryRecords": _XRAY,
    "kms:Decrypt": _KMS,
    "kms:GenerateDataKey": _KMS,
    "sqs:GetQueueAttributes": "Lambda reads the queue's attributes as the function when it creates the"
    " mapping",
    "dynamodb:GetItem": "Powertools idempotency reads the record of a command delivered again, to answer it"
    " as the first delivery was answered: a path of duplicates and redrives",
    "sqs:ChangeMessageVisibility": "a record another invocation holds (its command in progress, its person's"
    " state being saved) comes back after seconds rather than the visibility timeout: a path of concurrent"
    " duplicates",
    "sqs:SendMessage": "a rejected command, or one that used up its retries, goes to the function's DLQ with"
    " its reason: the path of poison input",
    "dynamodb:DeleteItem": "Powertools idempotency deletes the record of a command whose call failed, so that"
    " its retry runs: a path of throttling and outages, not of the demo",
    "cognito-idp:DescribeUserPool": "read only when Cognito answers that the attribute exists, to compare"
    " its type (the tour repeats no AddCustomAttributes)",
    "scheduler:UpdateSchedule": "the planner moves a leaver's scheduled deletion when a later leaver event"
    " changes its date",
    "scheduler:DeleteSchedule": "the planner cancels a leaver's scheduled deletion when the person is rehired"
    " before it is due",
    "s3:ListBucket": "S3 answers a read of a missing object NoSuchKey, not AccessDenied, only to a principal"
    " that may list the bucket: the reconciler reads the last applied run's record, which its first run"
    " finds missing",
    # The planner's main function calls these for every leaver with a grace period; its lock-out lane only
    # when the outbox it publishes first holds a deletion.
    "scheduler:CreateSchedule": _OUTBOX,
    "iam:PassRole": _OUTBOX,
}
_OPERATORS = {
    "StringEquals": lambda value, pattern: value == pattern,
    "StringLike": fnmatch.fnmatchcase,
    "ArnEquals": lambda value, pattern: value == pattern,
    "ArnLike": fnmatch.fnmatchcase,
}


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _conditions_match(conditions: Mapping[str, Mapping[str, Any]], call: Call) -> bool:
    context = call.context
    for operator, tests in conditions.items():
        compare = _OPERATORS.get(operator)
        if compare is None:
            return False  # an operator this check does not evaluate: fail closed
        for key, patterns in tests.items():
            if key not in context or not any(compare(context[key], p) for p in _listed(patterns)):
                return False
    return True


def _matches(statement: Mapping[str, Any], call: Call) -> bool:
    actions = [action.lower() for action in _listed(statement["Action"])]
    return (
        any(fnmatch.fnmatchcase(call.action.lower(), action) for action in actions)
        and any(fnmatch.fnmatchcase(call.resource, resource) for resource in _listed(statement["Resource"]))
        and _conditions_match(statement.get("Condition", {}), call)
    )


def allowed(statements: Sequence[Mapping[str, Any]], call: Call) -> bool:
    matching = [statement for statement in statements if _matches(statement, call)]
    return bool(matching) and all(statement["Effect"] == "Allow" for statement in matching)


@dataclass(frozen=True)
class FunctionAccess:
    """One function's calls against its role."""

    function: str
    called: tuple[str, ...]
    granted: tuple[str, ...]
    refused: tuple[Call, ...]  # calls its role does not allow

    @property
    def not_called(self) -> tuple[str, ...]:
        return tuple(action for action in self.granted if action not in self.called)

    @property
    def unexplained(self) -> tuple[str, ...]:
        """Granted, never called, and no reason given: a grant to remove, or a path to test."""
        return tuple(action for action in self.not_called if action not in NOT_CALLED_LOCALLY)


def check(deployment: LocalDeployment, calls: Iterable[Call]) -> list[FunctionAccess]:
    calls = list(calls)
    report = []
    for name, function in sorted(deployment.functions.items()):
        statements = [
            statement
            for document in deployment.role_policies[function.role_arn]
            for statement in document["Statement"]
        ]
        own = [call for call in calls if call.principal == function.function_name]
        report.append(
            FunctionAccess(
                function=name,
                called=tuple(sorted({call.action for call in own})),
                granted=tuple(
                    sorted(
                        {
                            action
                            for statement in statements
                            if statement["Effect"] == "Allow"
                            for action in _listed(statement["Action"])
                        }
                    )
                ),
                refused=tuple(sorted({call for call in own if not allowed(statements, call)})),
            )
        )
    return report


def _why_not_called(action: str) -> str:
    return NOT_CALLED_LOCALLY.get(action, "no reason given: a grant to remove, or a path to test")


def markdown_table(report: Sequence[FunctionAccess]) -> str:
    """The README's table: per function, the actions it called and those granted but not called."""
    reasons = sorted({_why_not_called(action) for access in report for action in access.not_called})
    number = {reason: index for index, reason in enumerate(reasons, start=1)}
    lines = [
        "| function | called (allowed by its role) | granted, not called locally (why: see below) |",
        "|---|---|---|",
    ]
    for access in report:
        not_called = ", ".join(
            f"{action} ({number[_why_not_called(action)]})" for action in access.not_called
        )
        lines.append(f"| {access.function} | {', '.join(access.called)} | {not_called} |")
    lines.append("")
    lines.extend(f"{index}. {reason}." for reason, index in number.items())
    return "\n".join(lines)


# A roster this size has movers and both kinds of leavers (now, and after 30 days).
ROSTER_JOINERS = 20


def access_after_the_tour_and_a_roster(joiners: int = ROSTER_JOINERS) -> list[FunctionAccess]:
    """On a fresh local AWS: the action tour, then a generated HR roster through the pipeline, then the
    roster's HR snapshot put in the snapshot bucket for the reconciler; the access check of every function
    over all three."""
    import boto3

    from local_aws.demo import run_tour
    from local_aws.deployment import SANDBOX_GROUPS
    from local_aws.roster import generate_roster
    from operator_cli.drift import current_employees, snapshot_csv
    from operator_cli.local import local_aws_deployment, pipeline_drain, run_roster

    with local_aws_deployment() as (aws, deployment):
        for _ in run_tour(aws, deployment):
            pass
        roster = generate_roster(joiners, groups=SANDBOX_GROUPS, seed=5)
        run_roster(deployment, roster)
        boto3.client("s3").put_object(
            Bucket=deployment.outputs["SnapshotBucketName"],
            Key="snapshots/roster.csv",
            Body=snapshot_csv(current_employees(roster.expected)).encode(),
        )
        pipeline_drain(deployment)()
        return check(deployment, aws.calls())


def main() -> None:
    report = access_after_the_tour_and_a_roster()
    print(markdown_table(report))
    findings = [
        f"{access.function}: {what}"
        for access in report
        for what in (
            *(f"refused {call.action} on {call.resource}" for call in access.refused),
            *(f"granted {action}, never called, no reason given" for action in access.unexplained),
        )
    ]
    if findings:
        raise SystemExit("\n".join(findings))


if __name__ == "__main__":
    main()
