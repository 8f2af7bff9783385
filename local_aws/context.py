"""cdk.json's context: the knobs the stack is built from, read by the local AWS and the CLI too, so that a
local deployment is configured as the stack would be."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


@cache
def cdk_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context
