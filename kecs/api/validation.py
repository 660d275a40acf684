"""Validation of wire requests against botocore's model.

The in-process client has botocore validate parameters before kecs sees them; requests that
arrive over HTTP (or from a client with ``parameter_validation=False``) are checked here with
botocore's own validator, so both paths refuse the same inputs.
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

from kecs.errors import InvalidParameterException

_validator = ParamValidator()


def strip_unknown(params: Any, shape: Shape | None) -> Any:
    """Drop members the model does not know, as AWS's JSON services ignore them."""
    if shape is None:
        return params
    if shape.type_name == "structure" and isinstance(params, dict):
        members = shape.members
        return {k: strip_unknown(v, members[k]) for k, v in params.items() if k in members}
    if shape.type_name == "list" and isinstance(params, list):
        return [strip_unknown(v, shape.member) for v in params]
    if shape.type_name == "map" and isinstance(params, dict):
        return {k: strip_unknown(v, shape.value) for k, v in params.items()}
    return params


def validate_request(params: dict[str, Any], operation: OperationModel) -> dict[str, Any]:
    """The request with unknown members dropped; ``InvalidParameterException`` if malformed."""
    shape = operation.input_shape
    if shape is None:
        return {}
    cleaned: dict[str, Any] = strip_unknown(params, shape)
    try:
        report = _validator.validate(cleaned, shape)
    except (OverflowError, RuntimeError, ValueError) as exc:
        # botocore's timestamp check lets these escape for absurd epochs (1e300 seconds:
        # "Unable to calculate correct timezone offset"); to the caller it is a bad value.
        raise InvalidParameterException(f"Invalid parameter value: {exc}") from None
    if report.has_errors():
        raise InvalidParameterException(report.generate_report())
    return cleaned
