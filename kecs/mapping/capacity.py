"""Capacity providers and launch types -> the nodes a task may run on; strategy arithmetic.

Node selection (a :class:`~kecs.mapping.placement.PodPlacement`):

- a custom capacity provider ``<name>`` stands for the nodes labelled
  ``kecs.dev/capacity-provider=<names.label_value(name)>``: its tasks get that ``nodeSelector``
  and tolerate the taint of the same key and value (any effect), so nodes can be dedicated to
  a provider by tainting them. (On EKS: label and taint the node group or Karpenter NodePool
  that backs the provider's Auto Scaling group.)
- ``FARGATE`` / ``FARGATE_SPOT`` (and the ``FARGATE`` launch type without a provider) select
  no label by default -- the embedded cluster's default nodes serve both, and so does any
  node of a real cluster. They *prefer* nodes labelled ``kecs.dev/capacity-provider=FARGATE``
  (or ``FARGATE_SPOT``; weight 100) and tolerate that taint, so an operator can set nodes aside
  for them.
- launch type ``EXTERNAL`` (ECS Anywhere) requires nodes labelled
  ``kecs.dev/launch-type=EXTERNAL`` and tolerates that taint; ``EC2`` selects nothing.

Strategy arithmetic (``capacityProviderStrategy`` with ``base`` and ``weight``), ECS's rule:
the first ``base`` tasks go to the provider that has a base (only one may), the rest are
shared in proportion to the weights, deterministically (smooth weighted round robin, so any
prefix of the sequence is as close to the ratio as whole tasks allow).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from kecs.mapping import labels, names
from kecs.mapping.errors import MappingError
from kecs.mapping.pod_placement import PodPlacement

PROVIDER_LABEL = labels.CAPACITY_PROVIDER
LAUNCH_TYPE_LABEL = labels.LAUNCH_TYPE
FARGATE = "FARGATE"
FARGATE_SPOT = "FARGATE_SPOT"
FARGATE_PROVIDERS = frozenset({FARGATE, FARGATE_SPOT})
EXTERNAL = "EXTERNAL"
NO_WEIGHT = (
    "The capacity provider strategy must contain at least one capacity provider "
    "with a weight greater than zero."
)


def provider_label(name: str) -> dict[str, str]:
    """The Node label that puts a node into capacity provider ``name``."""
    return {PROVIDER_LABEL: names.label_value(name)}


def _toleration(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "operator": "Equal", "value": value}


def node_selection(provider: str | None, launch_type: str | None = None) -> PodPlacement:
    """Where a task of ``provider`` (or, without one, of ``launch_type``) may run."""
    if provider is None and launch_type == FARGATE:
        provider = FARGATE
    if provider in FARGATE_PROVIDERS:
        value = names.label_value(provider)
        term = {"matchExpressions": [{"key": PROVIDER_LABEL, "operator": "In", "values": [value]}]}
        return PodPlacement(
            preferred_node_terms=({"weight": 100, "preference": term},),
            tolerations=(_toleration(PROVIDER_LABEL, value),),
        )
    if provider is not None:
        value = names.label_value(provider)
        return PodPlacement(
            node_selector={PROVIDER_LABEL: value},
            tolerations=(_toleration(PROVIDER_LABEL, value),),
        )
    if launch_type == EXTERNAL:
        return PodPlacement(
            node_selector={LAUNCH_TYPE_LABEL: EXTERNAL},
            tolerations=(_toleration(LAUNCH_TYPE_LABEL, EXTERNAL),),
        )
    return PodPlacement()


def strategy_selection(strategy: Sequence[Mapping[str, Any]]) -> PodPlacement:
    """Nodes of *any* provider of ``strategy``: for workloads whose pods share one template.

    A Deployment cannot give each pod its own provider; this admits every provider's nodes
    (required when all are custom providers, preferred when a Fargate provider is among them)
    and tolerates all their taints. :func:`distribution` says how many tasks each provider
    should get when a caller splits the workload per provider instead.
    """
    providers = [str(s["capacityProvider"]) for s in strategy if s.get("capacityProvider")]
    if not providers:
        return PodPlacement()
    tolerations = tuple(_toleration(PROVIDER_LABEL, names.label_value(p)) for p in providers)
    values = sorted({names.label_value(p) for p in providers})
    term = {"matchExpressions": [{"key": PROVIDER_LABEL, "operator": "In", "values": values}]}
    if any(p in FARGATE_PROVIDERS for p in providers):
        return PodPlacement(
            preferred_node_terms=({"weight": 100, "preference": term},), tolerations=tolerations
        )
    return PodPlacement(node_terms=(term,), tolerations=tolerations)


def launch_type_of(provider: str) -> str:
    """The launch type ECS reports for a task placed by ``provider``."""
    return FARGATE if provider in FARGATE_PROVIDERS else "EC2"


def _items(strategy: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, int]]:
    return [
        (str(i["capacityProvider"]), int(i.get("base") or 0), int(i.get("weight") or 0))
        for i in strategy
    ]


def provider_sequence(strategy: Sequence[Mapping[str, Any]], count: int) -> list[str]:
    """The capacity provider of each of ``count`` tasks launched under ``strategy``.

    ``base`` tasks first, in strategy order; then each further task goes by Balinski and
    Young's quota method: among the providers still under their upper quota, the one with
    the highest ``weight / (tasks so far + 1)`` (ties: strategy order). Every prefix stays
    within quota, so each provider's share of the weighted tasks is always the exact
    proportion rounded down or up, and launching one more task never moves an earlier one.
    """
    items = _items(strategy)
    result: list[str] = []
    for name, base, _ in items:
        result += [name] * max(0, min(base, count - len(result)))
    weighted = [(name, weight) for name, _, weight in items if weight > 0]
    if len(result) < count and not weighted:
        raise MappingError(NO_WEIGHT)
    total = sum(weight for _, weight in weighted)
    given = dict.fromkeys((name for name, _ in weighted), 0)
    placed = 0
    while len(result) < count:
        placed += 1
        # Under the upper quota after taking this task: given + 1 <= ceil(weight*placed/total),
        # i.e. given * total < weight * placed (integers, so no rounding error).
        eligible = [(n, w) for n, w in weighted if given[n] * total < w * placed]
        pick = max(eligible, key=lambda item: item[1] / (given[item[0]] + 1))[0]
        given[pick] += 1
        result.append(pick)
    return result


def provider_for_index(strategy: Sequence[Mapping[str, Any]], index: int) -> str:
    """The provider of the ``index``-th task (from 0) launched under ``strategy``."""
    if index < 0:
        raise ValueError("index must be >= 0")
    return provider_sequence(strategy, index + 1)[index]


def distribution(strategy: Sequence[Mapping[str, Any]], count: int) -> dict[str, int]:
    """How many of ``count`` tasks each provider of ``strategy`` gets (every provider listed)."""
    counts = Counter(provider_sequence(strategy, count))
    return {name: counts.get(name, 0) for name, _, _ in _items(strategy)}
