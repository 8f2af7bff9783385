"""Keeping secrets inside the function: logs, outcomes, idempotency records and the DLQ get them redacted."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

from cognito_workers.catalog import ActionSpec

REDACTED = "**redacted**"


def json_safe(value: Any) -> Any:
    """Cognito responses carry datetimes; outcomes and idempotency records need plain JSON."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def redact_result(spec: ActionSpec, response: dict[str, Any]) -> dict[str, Any]:
    return {
        key: REDACTED if key in spec.secret_result else json_safe(value) for key, value in response.items()
    }


def without_secret_params(spec: ActionSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Params fit to store in a DLQ body: secrets are dropped, not masked, so a redrive cannot
    mistake a mask for a real value (Cognito then generates a temporary password itself)."""
    return {key: value for key, value in params.items() if key not in spec.secret_params}


def secret_values(spec: ActionSpec, params: Any) -> set[str]:
    """Every string held in the secret params of a (possibly invalid) params object."""
    if not isinstance(params, dict):
        return set()
    return {text for key in spec.secret_params if key in params for text in _strings(params[key])}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def scrub(text: str, secrets: set[str]) -> str:
    """Mask any secret an upstream message might echo back."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
