"""Kubernetes label selectors: parsing the string syntax and matching labels.

Supported: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``,
joined by commas, as ``kubectl -l`` and the API server's ``labelSelector`` accept them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from kecs import k8s_grammar

Requirement = Callable[[Mapping[str, str]], bool]

_SET_RE = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


class SelectorError(ValueError):
    pass


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _key(text: str, term: str) -> str:
    key = text.strip()
    if not k8s_grammar.is_qualified_name(key):
        raise SelectorError(f"invalid label key {key!r} in selector term {term!r}")
    return key


def _value(text: str, term: str) -> str:
    value = text.strip()
    if not k8s_grammar.is_label_value(value):
        raise SelectorError(f"invalid label value {value!r} in selector term {term!r}")
    return value


def _requirement(term: str) -> Requirement:
    match = _SET_RE.match(term)
    if match:
        raw_key, op, raw = match.groups()
        key = _key(raw_key, term)
        values = frozenset(_value(v, term) for v in raw.split(",") if v.strip())
        if not values:
            # The API server refuses an empty set rather than matching nothing.
            raise SelectorError(f"selector term {term!r} needs at least one value")
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if "!=" in term:
        raw_key, _, raw_value = term.partition("!=")
        key, value = _key(raw_key, term), _value(raw_value, term)
        return lambda labels: labels.get(key) != value
    if "=" in term:
        raw_key, _, raw_value = term.replace("==", "=", 1).partition("=")
        key, value = _key(raw_key, term), _value(raw_value, term)
        return lambda labels: labels.get(key) == value
    if term.startswith("!"):
        key = _key(term[1:], term)
        return lambda labels: key not in labels
    key = _key(term, term)
    return lambda labels: key in labels


def compile_selector(selector: str | Mapping[str, str] | None) -> Requirement:
    """A predicate on a label mapping that is true when ``selector`` matches it.

    Raises :class:`SelectorError` for what an API server would refuse (bad syntax, illegal
    keys or values, an empty ``in``/``notin`` set).
    """
    if not selector:
        return lambda labels: True
    if not isinstance(selector, str):
        pairs = tuple((_key(k, k), _value(v, f"{k}={v}")) for k, v in selector.items())
        return lambda labels: all(labels.get(k) == v for k, v in pairs)
    requirements = [_requirement(term) for term in _split_top_level(selector)]
    return lambda labels: all(req(labels) for req in requirements)


def to_string(selector: str | Mapping[str, str] | None) -> str:
    """The selector in the API server's query-string syntax."""
    if not selector:
        return ""
    if isinstance(selector, str):
        return selector
    return ",".join(f"{k}={v}" for k, v in selector.items())
