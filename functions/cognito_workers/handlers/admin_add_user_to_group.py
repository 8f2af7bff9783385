"""Lambda handler of the AdminAddUserToGroup worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminAddUserToGroup")
handler = worker.handler
