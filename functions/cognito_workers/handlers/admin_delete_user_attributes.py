"""Lambda handler of the AdminDeleteUserAttributes worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminDeleteUserAttributes")
handler = worker.handler
