"""Which Kubernetes container is which ECS container, and which ones are essential.

The task definition mapping may rename containers (ECS names allow ``_`` and upper case) and
turns ``dependsOn`` targets into init containers; it records the names in the
:data:`~kecs.mapping.task_keys.CONTAINER_NAMES` annotation. Without that annotation the rule
of :class:`kecs.mapping.common.NameAllocator` (a legal DNS-1123 label is kept, anything else
becomes ``names.dns_label``) is applied to the task definition's names.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from kecs import k8s_grammar
from kecs.mapping import names, task_keys

#: ``isinstance`` against this is fastest for the plain dicts JSON gives (dict first).
_MAPPINGS = (dict, Mapping)


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _recorded(obj: Mapping[str, Any], key: str) -> Any:
    """The JSON annotation ``key`` decoded (``None`` when absent or not JSON), shared between
    callers: the pods of one task definition carry the same text, read only here."""
    raw = task_keys.annotations_of(obj).get(key)
    return _decoded(raw) if isinstance(raw, str) else None


@functools.lru_cache(maxsize=1024)
def _decoded(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def k8s_containers(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Init containers then regular containers of a Pod or PodTemplateSpec."""
    spec = _spec(obj)
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def _definitions(task_definition: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not task_definition:
        return []
    defs = task_definition.get("containerDefinitions") or []
    return [d for d in defs if isinstance(d, _MAPPINGS) and isinstance(d.get("name"), str)]


class Layout(NamedTuple):
    """The ECS containers of a pod, worked out once for everything a reader needs of them."""

    #: ``{kubernetes name: ECS name}`` (see :func:`name_map`).
    names: dict[str, str]
    #: Kubernetes names of the essential containers (see :func:`essential_names`).
    essential: frozenset[str]
    #: ``{kubernetes name: container definition}`` for the containers the definition has.
    definitions: dict[str, Mapping[str, Any]]


def layout(obj: Mapping[str, Any], task_definition: Mapping[str, Any] | None = None) -> Layout:
    """:func:`name_map`, :func:`essential_names` and :func:`definitions_by_k8s_name` of
    ``obj`` at once (the task definition's containers are read once for all three)."""
    definitions = _definitions(task_definition)
    mapping = _name_map(obj, definitions)
    if len(definitions) == 1 and len(mapping) == 1:
        # One container that is the definition's one (the usual task): what the indexes
        # below give, without building them.
        ((k8s, ecs),) = mapping.items()
        definition = definitions[0]
        if definition["name"] == ecs:
            essential = definition.get("essential") is not False
            return Layout(mapping, frozenset((k8s,) if essential else ()), {k8s: definition})
    by_k8s = _by_k8s_name(mapping, definitions)
    return Layout(mapping, _essential_names(obj, mapping, by_k8s), by_k8s)


def name_map(
    obj: Mapping[str, Any], task_definition: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """``{kubernetes name: ECS name}`` for the ECS containers of ``obj``.

    In the task definition's order when it is given, else in the pod's (init containers first).
    """
    return _name_map(obj, _definitions(task_definition))


def _name_map(obj: Mapping[str, Any], definitions: list[Mapping[str, Any]]) -> dict[str, str]:
    spec = _spec(obj)
    regular = spec.get("containers") or []
    init = spec.get("initContainers")
    present = [str(c.get("name", "")) for c in (regular if not init else [*init, *regular])]
    recorded = _recorded(obj, task_keys.CONTAINER_NAMES)
    if isinstance(recorded, _MAPPINGS):
        mapping = {k: recorded[k] for k in present if isinstance(recorded.get(k), str)}
        if mapping:
            return _in_order(mapping, definitions)
    if definitions:
        mapping = {}
        for definition in definitions:
            ecs = definition["name"]
            k8s = ecs if k8s_grammar.is_dns1123_label(ecs) else names.dns_label(ecs)
            if k8s in present and k8s not in mapping:
                mapping[k8s] = ecs
        if mapping:
            return mapping
    return {n: n for n in (str(c.get("name", "")) for c in regular)}


def _in_order(mapping: dict[str, str], definitions: list[Mapping[str, Any]]) -> dict[str, str]:
    if not definitions or len(mapping) < 2:
        # Nothing to sort by, or nothing to sort (one container is in order).
        return mapping
    order = {d["name"]: i for i, d in enumerate(definitions)}
    return dict(sorted(mapping.items(), key=lambda kv: order.get(kv[1], len(order))))


def definitions_by_k8s_name(
    mapping: Mapping[str, str], task_definition: Mapping[str, Any] | None
) -> dict[str, Mapping[str, Any]]:
    return _by_k8s_name(mapping, _definitions(task_definition))


def _by_k8s_name(
    mapping: Mapping[str, str], definitions: list[Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    if not definitions:
        return {}
    by_ecs = {d["name"]: d for d in definitions}
    return {k8s: by_ecs[ecs] for k8s, ecs in mapping.items() if ecs in by_ecs}


def essential_names(
    obj: Mapping[str, Any],
    mapping: Mapping[str, str],
    task_definition: Mapping[str, Any] | None = None,
) -> frozenset[str]:
    """Kubernetes names of the essential containers (all of them when nothing says).

    The task definition wins when given; otherwise the ``essential`` flags the task definition
    mapping kept in the :data:`~kecs.mapping.task_keys.CONTAINERS` annotation.
    """
    return _essential_names(obj, mapping, definitions_by_k8s_name(mapping, task_definition))


def _essential_names(
    obj: Mapping[str, Any],
    mapping: Mapping[str, str],
    definitions: Mapping[str, Mapping[str, Any]],
) -> frozenset[str]:
    if definitions:
        return frozenset(k for k, d in definitions.items() if d.get("essential") is not False)
    recorded = _recorded(obj, task_keys.CONTAINERS)
    if isinstance(recorded, _MAPPINGS):
        return frozenset(
            k
            for k in mapping
            if not (
                isinstance(recorded.get(k), _MAPPINGS) and recorded[k].get("essential") is False
            )
        )
    return frozenset(mapping)
