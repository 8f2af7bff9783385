"""Lambda handler of the AdminRespondToAuthChallenge worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminRespondToAuthChallenge")
handler = worker.handler
