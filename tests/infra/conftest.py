"""The synthesized app, built once per variant per test session (a synth costs seconds and ~550 MB).

`cdk.App()` does not read cdk.json: the fixture passes cdk.json's context itself, so the tests check what
`make synth` deploys. Two variants: cdk.json as it is (sandbox pool), and a production-like one that
imports a pool and sets the knobs a real deployment would (its own HR source, planner tuning included).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = REPO_ROOT / "cdk.json"

IMPORTED_POOL_ID = "eu-west-1_AbC123def"
PRODUCTION_OVERRIDES: dict[str, Any] = {
    "userPoolId": IMPORTED_POOL_ID,
    "eventPublishers": ["111122223333", "arn:aws:iam::444455556666:role/hr-publisher"],
    "quotaOverrides": {"UserCreation": 100, "UserUpdate": 20, "UserList": 60},
    "alarmEmail": "identity-ops@example.com",
    "actionOverrides": {
        "AdminCreateUser": {"functionTimeoutSeconds": 60, "functionMemoryMb": 512},
        "LifecyclePlanner": {"functionTimeoutSeconds": 45, "batchSize": 5},
    },
    "hrEventSources": ["com.example.workday"],
    "plannerMaxConcurrency": 10,
    "leaverThreshold": 20,
    "leaverWindowMinutes": 30,
    "traceAwsCalls": True,
}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


@dataclass
class Synthesized:
    name: str
    context: dict[str, Any]
    outdir: Path
    template: dict[str, Any]
    synth_error: str | None
    report: dict[str, Any] | None
    stack_name: str
    _by_type: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack_name}.template.json"

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of one type by logical id (what assertions.Template.find_resources returns)."""
        if resource_type not in self._by_type:
            self._by_type[resource_type] = {
                logical_id: resource
                for logical_id, resource in self.resources.items()
                if resource["Type"] == resource_type
            }
        return self._by_type[resource_type]


def _synthesize(name: str, context: dict[str, Any], outdir: Path) -> Synthesized:
    import aws_cdk as cdk

    from infra.app import build_app

    # The CDK CLI also records each resource's construct path in its Metadata; the App alone does not.
    app = cdk.App(context={**context, "aws:cdk:enable-path-metadata": True}, outdir=str(outdir))
    stack = build_app(app)
    error: str | None = None
    try:
        app.synth()
    except RuntimeError as failure:  # cdk-nag's validation failure; the template is written all the same
        error = str(failure)
    report_path = outdir / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    return Synthesized(
        name=name,
        context=context,
        outdir=outdir,
        template=template,
        synth_error=error,
        report=report,
        stack_name=stack.stack_name,
    )


@pytest.fixture(scope="session", params=["sandbox", "production"])
def synthesized(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    context = cdk_json_context()
    if request.param == "production":
        context = {**context, **PRODUCTION_OVERRIDES}
    return _synthesize(request.param, context, tmp_path_factory.mktemp(f"cdk-{request.param}"))
