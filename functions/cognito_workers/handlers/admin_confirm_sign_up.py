"""Lambda handler of the AdminConfirmSignUp worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminConfirmSignUp")
handler = worker.handler
