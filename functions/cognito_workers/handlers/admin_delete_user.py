"""Lambda handler of the AdminDeleteUser worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminDeleteUser")
handler = worker.handler
