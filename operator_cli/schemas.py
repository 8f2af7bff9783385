"""JSON Schema of every contract, generated from the pydantic models that enforce it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from cognito_workers.catalog import ACTIONS, RECONCILER
from cognito_workers.contracts import CommandEnvelope, OutcomeDetail
from cognito_workers.lifecycle.events import EVENT_TYPES
from cognito_workers.lifecycle.planner import LifecycleInputAudit
from cognito_workers.lifecycle.state import PlanAudit
from cognito_workers.reconcile.function import SnapshotAudit
from cognito_workers.reconcile.run import ReconciliationOutcome


def contract_models() -> dict[str, type[BaseModel]]:
    return {
        "CommandEnvelope": CommandEnvelope,
        "OutcomeEvent": OutcomeDetail,
        "PlanEvent": PlanAudit,
        "LifecycleEventRejected": LifecycleInputAudit,
        **{f"HrEvent/{name}": model for name, model in EVENT_TYPES.items()},
        RECONCILER.completed_detail_type: ReconciliationOutcome,
        RECONCILER.held_detail_type: ReconciliationOutcome,
        RECONCILER.refused_detail_type: SnapshotAudit,
        RECONCILER.failed_detail_type: SnapshotAudit,
        **{f"Params/{spec.name}": spec.params_model for spec in ACTIONS},
    }


def contract_schema(name: str) -> dict[str, Any]:
    return contract_models()[name].model_json_schema(by_alias=True)
