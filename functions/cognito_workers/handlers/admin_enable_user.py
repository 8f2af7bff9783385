"""Lambda handler of the AdminEnableUser worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminEnableUser")
handler = worker.handler
