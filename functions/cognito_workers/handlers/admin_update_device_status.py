"""Lambda handler of the AdminUpdateDeviceStatus worker (SQS-triggered)."""

from cognito_workers.worker import ActionWorker

worker = ActionWorker("AdminUpdateDeviceStatus")
handler = worker.handler
