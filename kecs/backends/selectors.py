"""Kubernetes label selectors: parsing the string syntax and matching labels.

Supported: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``,
joined by commas, as ``kubectl -l`` and the API server's ``labelSelector`` accept them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

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


def _requirement(term: str) -> Requirement:
    match = _SET_RE.match(term)
    if match:
        key, op, raw = match.groups()
        values = frozenset(v.strip() for v in raw.split(",") if v.strip())
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if "!=" in term:
        key, _, value = (s.strip() for s in term.partition("!="))
        return lambda labels: labels.get(key) != value
    if "=" in term:
        key, _, value = term.replace("==", "=", 1).partition("=")
        key, value = key.strip(), value.strip()
        if not key:
            raise SelectorError(f"invalid label selector term {term!r}")
        return lambda labels: labels.get(key) == value
    if term.startswith("!"):
        key = term[1:].strip()
        return lambda labels: key not in labels
    if re.fullmatch(r"[^\s!=,()]+", term):
        return lambda labels: term in labels
    raise SelectorError(f"invalid label selector term {term!r}")


def compile_selector(selector: str | Mapping[str, str] | None) -> Requirement:
    """A predicate on a label mapping that is true when ``selector`` matches it."""
    if not selector:
        return lambda labels: True
    if not isinstance(selector, str):
        pairs = tuple(selector.items())
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
