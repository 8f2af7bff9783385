"""Lambda handler of the AdminUserGlobalSignOut worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminUserGlobalSignOut")
handler = worker.handler
