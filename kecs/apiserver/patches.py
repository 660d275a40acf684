"""Field selectors and the three patch formats the served API accepts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Object = dict[str, Any]


class BadRequest(ValueError):
    """The request is malformed (HTTP 400)."""


def field_selector(text: str) -> Callable[[Object], bool] | None:
    """``metadata.name=web,status.phase!=Running`` as a predicate (any dotted field path)."""
    terms = [t.strip() for t in text.split(",") if t.strip()]
    if not terms:
        return None
    checks: list[tuple[list[str], str, bool]] = []
    for term in terms:
        if "!=" in term:
            path, _, value = term.partition("!=")
            equal = False
        elif "==" in term:
            path, _, value = term.partition("==")
            equal = True
        elif "=" in term:
            path, _, value = term.partition("=")
            equal = True
        else:
            raise BadRequest(f"invalid field selector: {term!r}")
        checks.append((path.strip().split("."), value.strip(), equal))

    def matches(obj: Object) -> bool:
        for path, value, equal in checks:
            found: Any = obj
            for key in path:
                found = found.get(key) if isinstance(found, dict) else None
            text = (
                ""
                if found is None
                else str(found).lower()
                if isinstance(found, bool)
                else str(found)
            )
            if (text == value) != equal:
                return False
        return True

    return matches


def strategic_as_merge(patch: Any) -> Any:
    """A strategic merge patch read as a JSON merge patch: directives (``$patch``,
    ``$setElementOrder/...``, ``$retainKeys``, ``$deleteFromPrimitiveList/...``) dropped.
    Equivalent for the maps kecs and ``kubectl label/annotate/scale`` change."""
    if isinstance(patch, dict):
        return {k: strategic_as_merge(v) for k, v in patch.items() if not k.startswith("$")}
    return patch


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise BadRequest(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> tuple[Any, str]:
    if not parts:
        raise BadRequest("cannot operate on the document root")
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise BadRequest(f"path {'/'.join(parts)!r} does not exist")
    return node, parts[-1]


def _read(doc: Any, parts: list[str]) -> Any:
    parent, key = _parent(doc, parts) if parts else (None, "")
    if not parts:
        return doc
    if isinstance(parent, dict) and key in parent:
        return parent[key]
    if isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        return parent[int(key)]
    raise BadRequest(f"path {'/'.join(parts)!r} does not exist")


def _remove(doc: Any, parts: list[str]) -> Any:
    parent, key = _parent(doc, parts)
    if isinstance(parent, dict) and key in parent:
        return parent.pop(key)
    if isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        return parent.pop(int(key))
    raise BadRequest(f"path {'/'.join(parts)!r} does not exist")


def _add(doc: Any, parts: list[str], value: Any, replace: bool) -> None:
    parent, key = _parent(doc, parts)
    if isinstance(parent, dict):
        if replace and key not in parent:
            raise BadRequest(f"path {'/'.join(parts)!r} does not exist")
        parent[key] = value
    elif isinstance(parent, list):
        if key == "-" and not replace:
            parent.append(value)
        elif key.isdigit() and int(key) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(key)] = value
            else:
                parent.insert(int(key), value)
        else:
            raise BadRequest(f"index {key!r} out of range")
    else:
        raise BadRequest(f"path {'/'.join(parts)!r} does not exist")


def json_patch(doc: Object, operations: Any) -> Object:
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test) on a copy of ``doc``."""
    if not isinstance(operations, list):
        raise BadRequest("a JSON patch is a list of operations")
    result = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise BadRequest(f"malformed JSON patch operation {op!r}")
        parts = _pointer(op["path"])
        name = op["op"]
        if name in ("add", "replace"):
            if "value" not in op:
                raise BadRequest(f"{name} needs a value")
            _add(result, parts, copy.deepcopy(op["value"]), replace=name == "replace")
        elif name == "remove":
            _remove(result, parts)
        elif name in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = (
                _remove(result, source) if name == "move" else copy.deepcopy(_read(result, source))
            )
            _add(result, parts, value, replace=False)
        elif name == "test":
            if _read(result, parts) != op.get("value"):
                raise BadRequest(f"test failed at {op['path']!r}")
        else:
            raise BadRequest(f"unknown JSON patch operation {name!r}")
    return result
