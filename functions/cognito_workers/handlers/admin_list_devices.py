"""Lambda handler of the AdminListDevices worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminListDevices")
handler = worker.handler
