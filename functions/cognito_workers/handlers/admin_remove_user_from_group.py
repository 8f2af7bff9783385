"""Lambda handler of the AdminRemoveUserFromGroup worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminRemoveUserFromGroup")
handler = worker.handler
