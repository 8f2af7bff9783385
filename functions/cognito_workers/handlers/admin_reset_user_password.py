"""Lambda handler of the AdminResetUserPassword worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminResetUserPassword")
handler = worker.handler
