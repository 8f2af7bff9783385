"""Answers of the operations local_aws adds, checked against botocore's output shapes."""

from __future__ import annotations

from typing import Any

from botocore import xform_name
from botocore.validate import ParamValidator


def call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """Call an operation and check its answer against botocore's output shape; return it sans metadata."""
    response = getattr(client, xform_name(operation))(**params)
    body = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    shape = client.meta.service_model.operation_model(operation).output_shape
    if shape is None:
        assert body == {}
    else:
        report = ParamValidator().validate(body, shape)
        assert not report.has_errors(), report.generate_report()
    return body
