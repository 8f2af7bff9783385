"""Lambda handler of the AdminDisableUser worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminDisableUser")
handler = worker.handler
