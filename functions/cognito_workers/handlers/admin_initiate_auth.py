"""Lambda handler of the AdminInitiateAuth worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminInitiateAuth")
handler = worker.handler
