"""Lambda handler of the AdminGetDevice worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminGetDevice")
handler = worker.handler
