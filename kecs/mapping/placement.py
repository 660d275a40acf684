"""ECS placement constraints and strategies -> where Kubernetes may schedule a task's pod.

Everything that decides a task's node is a :class:`~kecs.mapping.pod_placement.PodPlacement`;
placements from several sources (constraints and strategies here, capacity providers in
:mod:`kecs.mapping.capacity`, cluster membership in :mod:`kecs.mapping.container_instance`)
are ANDed with :func:`combine` and written into a pod spec with :func:`apply`, which keeps
what the spec already says (``runtimePlatform``'s ``nodeSelector``, StartTask's pin to a
node). Both are re-exported from :mod:`kecs.mapping.pod_placement`.

Constraints (``placementConstraints`` of RunTask / CreateService, plus the task definition's):

- ``distinctInstance`` -> required pod anti-affinity on ``kubernetes.io/hostname`` against
  the pods of the same group (``group_selector``: the service's tasks, or the task group's).
- ``memberOf`` -> the expression (:mod:`kecs.mapping.cluster_query`) in negation normal form:
  ``task:group`` comparisons at the top level (ANDed with the rest) become required pod
  affinity (``==``, ``in``, ``exists``) or anti-affinity (``!=``, ``not_in``, ``!exists``) on
  ``kubernetes.io/hostname`` against pods labelled ``kecs.dev/group``; everything else goes to
  disjunctive normal form and becomes required node affinity, one ``nodeSelectorTerm`` per
  disjunct (at most :data:`MAX_TERMS`). ``attribute:<name>`` compares the Node label of
  :func:`kecs.mapping.attributes.label_key`: ``==``/``in`` -> ``In``, ``!=``/``not_in`` ->
  ``NotIn`` (which, as in ECS, also matches nodes without the attribute), ``exists`` /
  ``!exists`` -> ``Exists`` / ``DoesNotExist``, ``>``/``<``/``>=``/``<=`` on integers ->
  ``Gt``/``Lt``. Refused (``MappingError``, so ``InvalidParameterException``): the match
  operators ``=~``/``!~``, ordering on non-integers, the subjects ``ec2InstanceId``,
  ``agentConnected``, ``agentVersion``, ``registeredAt``, ``runningTasksCount``, and
  ``task:group`` under an ``or``: Kubernetes has no node-affinity counterpart for them.

Strategies (``placementStrategy``, in priority order):

- ``spread`` on ``instanceId`` / ``host`` -> a topology spread constraint on
  ``kubernetes.io/hostname``; on ``attribute:<name>`` -> on that attribute's Node label
  (``attribute:ecs.availability-zone`` -> ``topology.kubernetes.io/zone``). ``maxSkew`` 1,
  ``ScheduleAnyway``: ECS spreads as well as it can, it never refuses to place.
- ``binpack`` (``cpu`` / ``memory``) -> preferred pod affinity to the group's pods on the same
  node (weight 100, then 50, ...) plus a note: true bin packing needs the scheduler's
  ``NodeResourcesFit`` scoring strategy ``MostAllocated``, a cluster setting.
- ``random`` -> nothing (the scheduler's own choice).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kecs.mapping import attributes, cluster_query, labels, names
from kecs.mapping.cluster_query import All, Any_, Comparison, Expression
from kecs.mapping.common import Note
from kecs.mapping.errors import MappingError
from kecs.mapping.pod_placement import PodPlacement, Term, apply, combine, conjoin

__all__ = [
    "PodPlacement",
    "apply",
    "combine",
    "conjoin",
    "constraints",
    "from_ecs",
    "group_selector",
    "member_of",
    "strategies",
]

HOSTNAME = "kubernetes.io/hostname"
MAX_CONSTRAINTS = 10
MAX_STRATEGIES = 5
#: The most nodeSelectorTerms one expression may expand into.
MAX_TERMS = 32


# -- memberOf ----------------------------------------------------------------------------------


def _integer(comparison: Comparison) -> int:
    try:
        return int(comparison.values[0])
    except ValueError:
        raise MappingError(
            f"Kubernetes node affinity compares only integers; {comparison.values[0]!r} "
            f"cannot be ordered for attribute:{comparison.attribute}."
        ) from None


def _requirement(comparison: Comparison) -> dict[str, Any]:
    if comparison.subject != "attribute":
        raise MappingError(
            f"The placement constraint subject {comparison.subject} has no Kubernetes "
            "counterpart; kecs supports attribute:<name> and task:group."
        )
    name = comparison.attribute or ""
    key = attributes.label_key(name)
    operator = comparison.operator
    values = sorted({attributes.label_value(name, v) for v in comparison.values})
    simple = {"eq": "In", "in": "In", "ne": "NotIn", "not_in": "NotIn"}
    if operator in simple:
        return {"key": key, "operator": simple[operator], "values": values}
    if operator == "exists":
        return {"key": key, "operator": "Exists"}
    if operator == "not_exists":
        return {"key": key, "operator": "DoesNotExist"}
    if operator in ("gt", "ge", "lt", "le"):
        number = _integer(comparison)
        bound = {"gt": number, "ge": number - 1, "lt": number, "le": number + 1}[operator]
        return {"key": key, "operator": "Gt" if operator in ("gt", "ge") else "Lt",
                "values": [str(bound)]}  # fmt: skip
    raise MappingError(
        "The match operators (=~, !~) of placement constraints have no Kubernetes node "
        f"affinity counterpart (attribute:{name})."
    )


def _disjuncts(expression: Expression) -> list[list[Comparison]]:
    """Disjunctive normal form of a negation-normal expression."""
    if isinstance(expression, Comparison):
        return [[expression]]
    if isinstance(expression, Any_):
        out = [d for e in expression.operands for d in _disjuncts(e)]
    elif isinstance(expression, All):
        out = [[]]
        for operand in expression.operands:
            out = [a + b for a in out for b in _disjuncts(operand)]
            if len(out) > MAX_TERMS:
                break
    else:  # normal form has no Not
        raise MappingError("The expression could not be normalised.")
    if len(out) > MAX_TERMS:
        raise MappingError(
            f"The placement constraint expression expands into more than {MAX_TERMS} "
            "alternatives; simplify it."
        )
    return out


def _top_conjuncts(expression: Expression) -> list[Expression]:
    if isinstance(expression, All):
        return [c for e in expression.operands for c in _top_conjuncts(e)]
    return [expression]


def _mentions_group(expression: Expression) -> bool:
    if isinstance(expression, Comparison):
        return expression.subject == "task:group"
    operands = expression.operands if isinstance(expression, All | Any_) else ()
    return any(_mentions_group(e) for e in operands)


def _group_term(comparison: Comparison) -> tuple[bool, dict[str, Any]]:
    """(anti?, pod affinity term) for a ``task:group`` comparison."""
    operator = comparison.operator
    values = sorted({names.label_value(v) for v in comparison.values})
    if operator in ("eq", "in"):
        anti, expression = False, {"key": labels.GROUP, "operator": "In", "values": values}
    elif operator in ("ne", "not_in"):
        anti, expression = True, {"key": labels.GROUP, "operator": "In", "values": values}
    elif operator == "exists":
        anti, expression = False, {"key": labels.GROUP, "operator": "Exists"}
    elif operator == "not_exists":
        anti, expression = True, {"key": labels.GROUP, "operator": "Exists"}
    else:
        raise MappingError(
            "task:group supports ==, !=, in, not_in, exists and !exists in placement constraints."
        )
    term = {"labelSelector": {"matchExpressions": [expression]}, "topologyKey": HOSTNAME}
    return anti, term


def member_of(expression_text: str) -> PodPlacement:
    """The placement a ``memberOf`` expression requires (see the module docstring)."""
    expression = cluster_query.normal_form(cluster_query.parse(expression_text))
    node_parts: list[Expression] = []
    affinity: list[dict[str, Any]] = []
    anti: list[dict[str, Any]] = []
    for conjunct in _top_conjuncts(expression):
        if isinstance(conjunct, Comparison) and conjunct.subject == "task:group":
            is_anti, term = _group_term(conjunct)
            (anti if is_anti else affinity).append(term)
        elif _mentions_group(conjunct):
            raise MappingError(
                "task:group can only be combined with 'and' in a placement constraint on "
                "Kubernetes (pod affinity terms cannot be alternatives)."
            )
        else:
            node_parts.append(conjunct)
    terms: tuple[Term, ...] | None = None
    if node_parts:
        rest = node_parts[0] if len(node_parts) == 1 else All(tuple(node_parts))
        terms = tuple(
            {"matchExpressions": [_requirement(c) for c in disjunct]}
            for disjunct in _disjuncts(rest)
        )
    return PodPlacement(
        node_terms=terms, pod_affinity=tuple(affinity), pod_anti_affinity=tuple(anti)
    )


# -- constraints and strategies ----------------------------------------------------------------


def _selector(group_selector: Mapping[str, str]) -> dict[str, Any]:
    return {"matchLabels": dict(sorted(group_selector.items()))}


def constraints(
    items: Iterable[Mapping[str, Any]], group_selector: Mapping[str, str]
) -> PodPlacement:
    """The placement ECS ``placementConstraints`` require."""
    items = list(items)
    if len(items) > MAX_CONSTRAINTS:
        raise MappingError(
            f"A task or service can have at most {MAX_CONSTRAINTS} placement constraints."
        )
    parts: list[PodPlacement] = []
    for item in items:
        kind = item.get("type")
        expression = item.get("expression")
        if kind == "distinctInstance":
            if expression:
                raise MappingError(
                    "An expression cannot be specified with the distinctInstance constraint type."
                )
            term = {"labelSelector": _selector(group_selector), "topologyKey": HOSTNAME}
            parts.append(PodPlacement(pod_anti_affinity=(term,)))
        elif kind == "memberOf":
            if not expression:
                raise MappingError("An expression is required for the memberOf constraint type.")
            parts.append(member_of(str(expression)))
        else:
            raise MappingError(f"Unknown placement constraint type {kind!r}.")
    return combine(*parts)


def _topology_key(field: str) -> str:
    if field.lower() in ("instanceid", "host"):
        return HOSTNAME
    if field.startswith("attribute:") and len(field) > len("attribute:"):
        return attributes.label_key(field[len("attribute:") :])
    raise MappingError(
        f"Invalid placement strategy field {field!r} for spread; use instanceId, host or "
        "attribute:<name>."
    )


def strategies(
    items: Iterable[Mapping[str, Any]], group_selector: Mapping[str, str]
) -> PodPlacement:
    """The placement ECS ``placementStrategy`` asks for (preferences, never refusals)."""
    items = list(items)
    if len(items) > MAX_STRATEGIES:
        raise MappingError(
            f"A task or service can have at most {MAX_STRATEGIES} placement strategies."
        )
    spread: list[dict[str, Any]] = []
    preferred: list[dict[str, Any]] = []
    notes: list[Note] = []
    for index, item in enumerate(items):
        kind, field = item.get("type"), str(item.get("field") or "")
        path = f"placementStrategy[{index}]"
        if kind == "spread":
            key = _topology_key(field)
            if any(s["topologyKey"] == key for s in spread):
                continue
            spread.append(
                {
                    "maxSkew": 1,
                    "topologyKey": key,
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": _selector(group_selector),
                }
            )
        elif kind == "binpack":
            if field.lower() not in ("cpu", "memory"):
                raise MappingError(
                    f"Invalid placement strategy field {field!r} for binpack; use cpu or memory."
                )
            term = {"labelSelector": _selector(group_selector), "topologyKey": HOSTNAME}
            preferred.append({"weight": max(100 - 50 * len(preferred), 1), "podAffinityTerm": term})
            notes.append(
                Note(
                    path,
                    f"binpack by {field.lower()} prefers nodes already running the group's "
                    "tasks; packing every node needs the scheduler's NodeResourcesFit scoring "
                    "strategy MostAllocated",
                )
            )
        elif kind != "random":
            raise MappingError(f"Unknown placement strategy type {kind!r}.")
    return PodPlacement(
        topology_spread=tuple(spread), preferred_pod_affinity=tuple(preferred), notes=tuple(notes)
    )


def from_ecs(
    *,
    constraints_: Iterable[Mapping[str, Any]] = (),
    strategies_: Iterable[Mapping[str, Any]] = (),
    task_definition: Mapping[str, Any] | None = None,
    group_selector: Mapping[str, str],
    launch_type: str | None = None,
) -> PodPlacement:
    """Constraints (the request's and the task definition's) and strategies, combined.

    ``group_selector``: labels of the task's group (for a service, its pods' selector).
    FARGATE tasks accept neither, as on ECS.
    """
    given = list(constraints_)
    wanted = list(strategies_)
    if launch_type == "FARGATE" and given:
        raise MappingError(
            "Task placement constraints are not supported for the FARGATE launch type."
        )
    if launch_type == "FARGATE" and wanted:
        raise MappingError(
            "Task placement strategies are not supported for the FARGATE launch type."
        )
    own = [c for c in (task_definition or {}).get("placementConstraints") or () if c]
    return combine(
        constraints([*given, *own], group_selector),
        strategies(wanted, group_selector),
    )


def group_selector(group: str) -> dict[str, str]:
    """The labels that select the pods of one ECS task group."""
    return {labels.GROUP: names.label_value(group), labels.RESOURCE: "task"}
