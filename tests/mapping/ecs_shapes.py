"""Check a Python value against a botocore *output* shape of the ECS model, strictly.

Stricter than ``botocore.validate.ParamValidator`` (which is meant for input): unknown
members, enum values outside the model, naive datetimes and bools posing as integers all fail.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import botocore.session


class ShapeError(AssertionError):
    pass


@functools.cache
def _model() -> Any:
    return botocore.session.get_session().get_service_model("ecs")


def check(value: Any, shape_name: str) -> None:
    """Raise :class:`ShapeError` naming the path of the first mismatch."""
    _check(value, _model().shape_for(shape_name), shape_name)


def _check(value: Any, shape: Any, path: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected a structure, got {value!r}")
        unknown = set(value) - set(shape.members)
        if unknown:
            raise ShapeError(f"{path}: unknown members {sorted(unknown)}")
        for name in shape.required_members:
            if name not in value:
                raise ShapeError(f"{path}: missing required {name}")
        for name, member in value.items():
            _check(member, shape.members[name], f"{path}.{name}")
    elif kind == "list":
        if not isinstance(value, list):
            raise ShapeError(f"{path}: expected a list, got {value!r}")
        for i, item in enumerate(value):
            _check(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected a map")
        for key, item in value.items():
            _check(key, shape.key, f"{path}<key>")
            _check(item, shape.value, f"{path}[{key}]")
    elif kind == "string":
        if not isinstance(value, str):
            raise ShapeError(f"{path}: expected a string, got {value!r}")
        if shape.enum and value not in shape.enum:
            raise ShapeError(f"{path}: {value!r} not in {shape.enum}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ShapeError(f"{path}: expected an integer, got {value!r}")
    elif kind in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ShapeError(f"{path}: expected a number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ShapeError(f"{path}: expected a boolean, got {value!r}")
    elif kind == "timestamp":
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ShapeError(f"{path}: expected a tz-aware datetime, got {value!r}")
    else:  # pragma: no cover - the ECS model has no other types
        raise ShapeError(f"{path}: unexpected shape type {kind}")
