"""Lambda handler of the AdminUpdateUserAttributes worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminUpdateUserAttributes")
handler = worker.handler
