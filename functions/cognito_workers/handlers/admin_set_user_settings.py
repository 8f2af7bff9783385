"""Lambda handler of the AdminSetUserSettings worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminSetUserSettings")
handler = worker.handler
