"""Lambda handler of the AddCustomAttributes worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AddCustomAttributes")
handler = worker.handler
