"""Keeping secrets inside the function: logs, outcomes, idempotency records and the DLQ get them redacted.

Secrets are kept out by field: a secret param's value is never written into a reason, and a result's secret
fields are masked. A message written by someone else (Cognito, a validator) that quotes a secret anyway is
withheld whole."""

from __future__ import annotations

import base64
import datetime
import html
import json
import urllib.parse
from collections.abc import Collection, Iterator
from typing import Any

from cognito_workers.catalog import ActionSpec

REDACTED = "**redacted**"
# What stands in for a message that quoted a secret: it is withheld whole, never patched, since where masks
# fall would spell the secret.
WITHHELD = "message withheld: it echoed a secret param"


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


def secret_values(spec: ActionSpec, params: Any) -> frozenset[str]:
    """Every string a (possibly invalid) params object holds where the catalog says values are secret."""
    if not isinstance(params, dict):
        return frozenset()
    found: set[str] = set()
    for secret in spec.secrets:
        value = params.get(secret.name)
        if isinstance(value, dict):
            value = {key: item for key, item in value.items() if secret.holds_secret_at((key,))}
        found.update(strings_in(value))
    return frozenset(found - {""})


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value, at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def _encodings(secret: str) -> set[str]:
    """The forms in which a message might quote a secret: as is, JSON- or Python-escaped, URL-encoded, HTML-
    escaped, or in base64 (standard or URL-safe, padded or not)."""
    raw = secret.encode()
    base64_forms = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        html.escape(secret),
        *base64_forms,
        *(form.rstrip("=") for form in base64_forms),
    }


def echoes_secret(text: str, secrets: Collection[str]) -> bool:
    """Whether the text quotes any of the secrets in any of the forms of `_encodings`. Case is ignored (a
    percent-encoding may be in either case), which errs on the side of withholding."""
    folded = text.casefold()
    return any(form.casefold() in folded for secret in secrets if secret for form in _encodings(secret))


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
