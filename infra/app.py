"""Building the CDK app: the one entry point that app.py (the CDK CLI's) and the infra tests share."""

from __future__ import annotations

import aws_cdk as cdk

from infra.config import DeploymentConfig
from infra.nag import add_checks
from infra.stack import CognitoWorkersStack


def build_app(app: cdk.App) -> CognitoWorkersStack:
    """Add the stack, configured from the app's context, and the cdk-nag checks that gate its synth."""
    config = DeploymentConfig.from_context(app.node)
    stack = CognitoWorkersStack(app, config.stack_name, config=config)
    add_checks(app)
    return stack
