"""Lambda handler of the AdminForgetDevice worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminForgetDevice")
handler = worker.handler
