"""Lambda handler of the planner's lock-out lane (SQS-triggered): leavers and the outcomes of their lock-out
steps, on a queue of their own so that they never wait behind joiner and mover traffic. The same planner as
lifecycle_planner.py, over the same state; its metrics are the planner's."""

from cognito_workers.lifecycle.planner import LifecyclePlanner

planner = LifecyclePlanner()
handler = planner.handler
