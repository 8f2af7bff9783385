#!/usr/bin/env python3
"""CDK app: `npx cdk synth` (or `make synth`) runs this with cdk.json's context.

Synth is offline: no env=, no lookups. The stack is environment-agnostic and deploys to the account and
Region of the credentials `cdk deploy` runs with (docs/deploy.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The stack is generated from the action catalog, which lives in the Lambda asset (functions/).
sys.path.insert(0, str(Path(__file__).resolve().parent / "functions"))

import aws_cdk as cdk

from infra.app import build_app

app = cdk.App()
build_app(app)
app.synth()
