"""cdk-nag (AwsSolutions) for the app, and the one way this code base acknowledges a finding.

cdk-nag 3 runs as a CDK policy-validation plugin: synth fails on any unacknowledged finding and writes
validation-report.json into the cloud assembly. An acknowledgement is recorded on the CloudFormation
resource it is about (an L2 construct's default child, so that it does not spread to the construct's other
children), with its reason; `write_suppressions_to_cloud_formation` copies it into that resource's template
Metadata (cdk_nag.rules_to_suppress), so the template itself shows every acknowledgement.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"


def add_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding (e.g. "AwsSolutions-IAM5[Resource::*]") on one resource, with its reason."""
    resource = construct.node.default_child or construct
    cdk.Validations.of(resource).acknowledge(cdk.Acknowledgment(id=f"{PACK}::{rule}", reason=reason))


def finding_arn(*, service: str, resource: str) -> str:
    """An ARN of this stack's account and Region as cdk-nag spells it in a finding id, e.g.
    "AwsSolutions-IAM5[Resource::<finding_arn>]" (pseudo parameters as <AWS::Region>)."""
    return f"arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:{resource}"
