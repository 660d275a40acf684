"""Copying and merge-patching JSON-like data (dicts, lists and scalars)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def copy_json(value: T) -> T:
    """A deep copy of JSON-like data; several times faster than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {  # type: ignore[return-value]
            k: copy_json(v) if isinstance(v, dict | list) else v for k, v in value.items()
        }
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, dict | list) else v for v in value]  # type: ignore[return-value]
    return value


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: ``None`` deletes a key, dicts merge, anything else replaces."""
    if not isinstance(patch, Mapping):
        return copy_json(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
