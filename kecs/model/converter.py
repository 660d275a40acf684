"""The one cattrs converter between kecs's attrs classes and camelCase wire dicts.

Attribute names map to wire names through :func:`kecs.model.naming.to_camel` (which knows the
five irregular names of botocore's model); ``None`` fields are left out when unstructuring, so
``unstructure(structure(wire, cls)) == wire`` for wire dicts without nulls. Timestamps structure
from ``datetime`` or epoch seconds and unstructure as ``datetime`` (the wire encoder turns them
into epoch seconds). Unknown wire keys are ignored.

Hooks are generated per class on first use, so building the converter costs well under a
millisecond; importing this module imports cattrs (~40 ms), which is why ``kecs.model`` does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from kecs.model.naming import to_camel

T = TypeVar("T")

converter = cattrs.Converter()


def _is_model(cls: Any) -> bool:
    return attrs.has(cls) and getattr(cls, "__module__", "").startswith("kecs.model.")


def _renames(cls: type, *, omit: bool) -> dict[str, Any]:
    return {
        f.name: override(rename=to_camel(f.name), omit_if_default=omit) for f in attrs.fields(cls)
    }


def _unstructure_factory(cls: type) -> Callable[[Any], dict[str, Any]]:
    return make_dict_unstructure_fn(cls, converter, **_renames(cls, omit=True))


def _structure_factory(cls: type[T]) -> Callable[[Mapping[str, Any], Any], T]:
    return make_dict_structure_fn(cls, converter, **_renames(cls, omit=False))


def _structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    raise TypeError(f"not a timestamp: {value!r}")


converter.register_unstructure_hook_factory(_is_model, _unstructure_factory)
converter.register_structure_hook_factory(_is_model, _structure_factory)
converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, lambda value: value)


def structure(wire: Mapping[str, Any], cls: type[T]) -> T:
    """A camelCase wire dict -> an instance of ``cls``."""
    return converter.structure(wire, cls)


def unstructure(obj: Any) -> dict[str, Any]:
    """An attrs model instance -> its camelCase wire dict (``None`` members left out)."""
    result: dict[str, Any] = converter.unstructure(obj)
    return result
