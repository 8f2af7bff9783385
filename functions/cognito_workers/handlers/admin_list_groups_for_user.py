"""Lambda handler of the AdminListGroupsForUser worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminListGroupsForUser")
handler = worker.handler
