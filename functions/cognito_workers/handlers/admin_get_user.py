"""Lambda handler of the AdminGetUser worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminGetUser")
handler = worker.handler
