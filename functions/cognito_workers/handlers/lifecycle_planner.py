"""Lambda handler of the lifecycle planner (SQS-triggered): HR events in, ordered commands out."""

from cognito_workers.lifecycle.planner import LifecyclePlanner

planner = LifecyclePlanner()
handler = planner.handler
