"""``dependsOn`` -> init containers and native sidecars.

Kubernetes orders container start-up only through ``initContainers``: they start one after
another, a regular init container must exit 0 before the next starts, a *native sidecar* (an
init container with ``restartPolicy: Always``, Kubernetes >= 1.29) only has to be started, or
pass its ``startupProbe`` when it has one. Regular containers start after all of them. So:

- a container others wait for with START or HEALTHY becomes a native sidecar; HEALTHY
  targets get a ``startupProbe`` from their ``healthCheck`` so dependents wait until healthy;
- a container others wait for only with COMPLETE or SUCCESS becomes a regular init container
  (COMPLETE is approximated: Kubernetes only goes on after exit code 0);
- everything else stays a regular container.

Init containers are ordered so that each comes after what it depends on (definition order
otherwise; cycles are broken at the back edge, noted). Approximations are noted: regular
containers wait for *every* init container, not only their own dependencies.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from kecs.mapping.common import Notes, flag, record, records, text

Role = Literal["container", "init", "sidecar"]
RUNNING = frozenset({"START", "HEALTHY"})
FINISHED = frozenset({"COMPLETE", "SUCCESS"})


@attrs.frozen
class StartOrder:
    roles: tuple[Role, ...]  # per container definition
    init_order: tuple[int, ...]  # indices of init containers and sidecars, in start order
    healthy_gates: frozenset[int]  # sidecars dependents wait on to be HEALTHY


@functools.lru_cache(maxsize=16)
def _unordered(count: int) -> StartOrder:
    """The plan of ``count`` containers none of which depends on another (frozen: shared)."""
    container: Role = "container"
    return StartOrder(roles=(container,) * count, init_order=(), healthy_gates=frozenset())


def plan(definitions: list[Mapping[str, Any]], notes: Notes) -> StartOrder:
    if all("dependsOn" not in definition for definition in definitions):
        # The usual task: every container a regular one, nothing to note.
        return _unordered(len(definitions))
    by_name: dict[str, int] = {}
    for index, definition in enumerate(definitions):
        by_name.setdefault(text(definition, "name") or "", index)

    deps: list[list[int]] = [[] for _ in definitions]
    conditions: dict[int, set[str]] = {}
    for index, definition in enumerate(definitions):
        for i, dependency in enumerate(records(definition, "dependsOn")):
            where = f"containerDefinitions[{index}].dependsOn[{i}]"
            name = text(dependency, "containerName") or ""
            condition = text(dependency, "condition") or "START"
            target = by_name.get(name)
            if target is None or target == index:
                notes.add(
                    where, f"container {name!r} is not another container of the task; ignored"
                )
                continue
            if condition not in RUNNING | FINISHED:
                notes.add(where, f"condition {condition!r} unknown; treated as START")
                condition = "START"
            if condition == "COMPLETE":
                notes.add(
                    where,
                    "COMPLETE approximated by SUCCESS: Kubernetes goes on only after exit code 0",
                )
            deps[index].append(target)
            conditions.setdefault(target, set()).add(condition)

    roles: list[Role] = ["container"] * len(definitions)
    gates: set[int] = set()
    for target, conds in sorted(conditions.items()):
        path = f"containerDefinitions[{target}]"
        if conds & RUNNING:
            roles[target] = "sidecar"
            if conds & FINISHED:
                notes.add(
                    path, "others wait for it both to run and to exit; they start once it runs"
                )
            if "HEALTHY" in conds:
                if record(definitions[target], "healthCheck") is None:
                    notes.add(
                        path, "HEALTHY dependency on a container without healthCheck; START used"
                    )
                else:
                    gates.add(target)
        else:
            roles[target] = "init"
            if flag(definitions[target], "essential") is not False:
                notes.add(
                    path, "essential container that others wait to exit runs as an init container"
                )

    order = _topological([i for i, r in enumerate(roles) if r != "container"], deps, notes)
    if definitions and "container" not in roles:
        last = order.pop()
        roles[last] = "container"
        gates.discard(last)
        notes.add(
            f"containerDefinitions[{last}]",
            "every container is a dependency; this one stays a regular container",
        )
    if order:
        names = ", ".join(repr(text(definitions[i], "name") or "") for i in order)
        notes.add(
            "dependsOn",
            f"start order via init containers ({names}); every regular container waits "
            "for all of them",
        )
    return StartOrder(roles=tuple(roles), init_order=tuple(order), healthy_gates=frozenset(gates))


def _topological(members: list[int], deps: list[list[int]], notes: Notes) -> list[int]:
    """Members ordered dependencies-first (iterative DFS; back edges are dropped, noted)."""
    member_set = set(members)
    order: list[int] = []
    done: set[int] = set()
    for root in members:
        if root in done:
            continue
        on_path = {root}
        stack = [(root, iter(deps[root]))]
        while stack:
            node, pending = stack[-1]
            target = next(pending, None)
            if target is None:
                stack.pop()
                on_path.discard(node)
                done.add(node)
                order.append(node)
            elif target in on_path:
                notes.add(
                    f"containerDefinitions[{node}].dependsOn", "dependency cycle; broken here"
                )
            elif target in member_set and target not in done:
                on_path.add(target)
                stack.append((target, iter(deps[target])))
    return order
