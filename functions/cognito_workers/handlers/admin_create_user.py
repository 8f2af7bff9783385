"""Lambda handler of the AdminCreateUser worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminCreateUser")
handler = worker.handler
