"""Lambda handler of the reconciler (SQS-triggered): HR snapshots put in the snapshot bucket, reconciled."""

from cognito_workers.reconcile.function import SnapshotReconciler

reconciler = SnapshotReconciler()
handler = reconciler.handler
