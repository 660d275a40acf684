"""Copying and merge-patching JSON-like data (dicts, lists and scalars)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


#: What :func:`copy_json` descends into (a tuple: ``isinstance`` is fastest with one).
_CONTAINERS = (dict, list)


def copy_json(value: T) -> T:
    """A deep copy of JSON-like data; several times faster than ``copy.deepcopy``.

    Dicts come back as plain dicts and lists as lists; anything else (strings, numbers,
    tuples) is shared, as it is immutable. A dict is copied whole first and only its
    containers are replaced, which costs less than rebuilding it key by key.
    """
    if isinstance(value, dict):
        out = value.copy() if type(value) is dict else dict(value)
        for key, item in value.items():
            if isinstance(item, _CONTAINERS):
                out[key] = copy_json(item)
        return out  # type: ignore[return-value]
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, _CONTAINERS) else v for v in value]  # type: ignore[return-value]
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
