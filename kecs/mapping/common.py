"""Small pieces every part of the task-definition mapping shares.

The input is a wire dict already validated by botocore's model, so types are right, but every
optional member may be absent; the readers below also shrug off wrong types (``None`` from a
describe output, a string where a list belongs) so the mapping stays total on any input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import attrs

from kecs import k8s_grammar
from kecs.mapping import names


@attrs.frozen
class Note:
    """One thing that did not map exactly, readable by a user."""

    path: str  # e.g. "containerDefinitions[0].ulimits" or "proxyConfiguration"
    message: str  # why / what was done instead

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class Notes:
    """Collects notes in the order the mapping meets them, without duplicates."""

    def __init__(self) -> None:
        # Keyed by (path, message), which is what makes two notes equal: the Note objects
        # are made once, by ``freeze``, not for every add (a duplicate is common).
        self._notes: dict[tuple[str, str], None] = {}

    def add(self, path: str, message: str) -> None:
        self._notes[path, message] = None

    def freeze(self) -> tuple[Note, ...]:
        return tuple(Note(path, message) for path, message in self._notes)


# -- tolerant readers ------------------------------------------------------------------------


def text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def integer(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def flag(obj: Mapping[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    return value if isinstance(value, bool) else None


def records(obj: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """A list-of-structures member (non-structures are skipped)."""
    value = obj.get(key)
    if not value or not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, (dict, Mapping))]


def strings(obj: Mapping[str, Any], key: str) -> list[str]:
    value = obj.get(key)
    if not value or not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def record(obj: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = obj.get(key)
    if value is None:  # the usual answer: spares the (slow) abstract Mapping check
        return None
    return value if isinstance(value, (dict, Mapping)) else None


def string_map(obj: Mapping[str, Any], key: str) -> dict[str, str]:
    value = obj.get(key)
    if not value or not isinstance(value, (dict, Mapping)):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def present(obj: Mapping[str, Any], key: str) -> bool:
    """Whether ``key`` carries a value worth mentioning (not absent, null or empty)."""
    value = obj.get(key)
    return value is not None and value != [] and value != {} and value != ""


# -- output helpers --------------------------------------------------------------------------


_CONTAINERS = (dict, list)
_T = TypeVar("_T")


def copy_json(value: _T) -> _T:
    """A deep copy of JSON-like data (dicts and lists copied, everything else shared), several
    times faster than ``copy.deepcopy``; for the pods and templates built per request."""
    if isinstance(value, dict):
        out = value.copy() if type(value) is dict else dict(value)
        for key, item in value.items():
            if isinstance(item, _CONTAINERS):
                out[key] = copy_json(item)
        return out  # type: ignore[return-value]
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, _CONTAINERS) else v for v in value]  # type: ignore[return-value]
    return value


#: One encoder for every annotation value (``json.dumps`` with options builds one per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_json(value: Any) -> str:
    """Canonical JSON for annotation values: deterministic and compact."""
    return _CANONICAL.encode(value)


def escape_expansion(value: str) -> str:
    """``value`` protected from Kubernetes' ``$(VAR)`` expansion in command, args and env.

    Docker passes these strings verbatim; Kubernetes expands ``$(NAME)`` and folds ``$$`` to
    ``$``. Only strings containing ``$(`` or ``$$`` change under expansion, and doubling every
    ``$`` in them restores the exact text.
    """
    if "$(" in value or "$$" in value:
        return value.replace("$", "$$")
    return value


class NameAllocator:
    """Hands out distinct DNS-1123 labels for one namespace of names (containers, volumes).

    A name that is already a legal label is kept as is; anything else becomes
    ``names.dns_label`` of it. A clash (two ECS names, or an ECS name and a generated one,
    landing on the same label) is resolved by salting the hash with a counter, so distinct
    inputs always get distinct outputs and the result depends only on the input order.
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken: set[str] = set(reserved)

    def allocate(self, wanted: str, *identity: str) -> str:
        ident = identity or (wanted,)
        candidate = (
            wanted if k8s_grammar.is_dns1123_label(wanted) else names.dns_label(wanted, *ident)
        )
        salt = 0
        while candidate in self._taken:
            salt += 1
            candidate = names.dns_label(wanted, *ident, str(salt))
        self._taken.add(candidate)
        return candidate
