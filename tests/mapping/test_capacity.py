"""Capacity providers -> node selection, and the base/weight arithmetic (kecs.mapping.capacity)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend, NodeSpec
from kecs.errors import InvalidParameterException
from kecs.mapping import capacity, placement
from kecs.mapping.errors import MappingError
from kecs.operations.task_placement import provider_sequence as run_task_sequence
from tests.k8s_schema import validate_strict

KEY = capacity.PROVIDER_LABEL


def pod(name: str, p: placement.PodPlacement) -> dict[str, Any]:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "t"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    obj["spec"] = placement.apply(obj["spec"], p)
    validate_strict(obj)
    return obj


def test_a_custom_provider_selects_its_nodes_and_tolerates_their_taint() -> None:
    result = capacity.node_selection("big_ones")
    assert result.node_selector == {KEY: "big_ones"}
    assert result.tolerations == ({"key": KEY, "operator": "Equal", "value": "big_ones"},)
    assert result.node_terms is None and result.preferred_node_terms == ()


def test_fargate_prefers_its_nodes_but_needs_none() -> None:
    for provider, launch_type in (("FARGATE", None), ("FARGATE_SPOT", None), (None, "FARGATE")):
        result = capacity.node_selection(provider, launch_type)
        value = provider or "FARGATE"
        assert result.node_selector == {} and result.node_terms is None
        (preferred,) = result.preferred_node_terms
        assert preferred["preference"]["matchExpressions"] == [
            {"key": KEY, "operator": "In", "values": [value]}
        ]
        assert result.tolerations == ({"key": KEY, "operator": "Equal", "value": value},)


def test_launch_types() -> None:
    assert capacity.node_selection(None, "EC2") == placement.PodPlacement()
    assert capacity.node_selection(None, None) == placement.PodPlacement()
    external = capacity.node_selection(None, "EXTERNAL")
    assert external.node_selector == {capacity.LAUNCH_TYPE_LABEL: "EXTERNAL"}
    assert capacity.launch_type_of("FARGATE_SPOT") == "FARGATE"
    assert capacity.launch_type_of("mine") == "EC2"


def test_long_provider_names_become_legal_label_values() -> None:
    name = "p" * 200
    result = capacity.node_selection(name)
    value = result.node_selector[KEY]
    assert len(value) <= 63 and value != capacity.node_selection("p" * 199).node_selector[KEY]
    pod("x", result)


def test_strategy_selection_for_a_shared_template() -> None:
    custom = capacity.strategy_selection(
        [{"capacityProvider": "a", "weight": 1}, {"capacityProvider": "b", "weight": 2}]
    )
    assert custom.node_terms == (
        {"matchExpressions": [{"key": KEY, "operator": "In", "values": ["a", "b"]}]},
    )
    assert len(custom.tolerations) == 2
    fargate = capacity.strategy_selection([{"capacityProvider": "FARGATE", "weight": 1}])
    assert fargate.node_terms is None and fargate.preferred_node_terms
    assert capacity.strategy_selection([]) == placement.PodPlacement()
    pod("x", custom)


def test_the_embedded_scheduler_places_provider_tasks_on_provider_nodes() -> None:
    taint = {"key": KEY, "value": "gpu", "effect": "NoSchedule"}
    backend = MemoryBackend(
        nodes=[NodeSpec(), NodeSpec(labels={KEY: "gpu"}, taints=[taint])], autoscale=False
    )
    backend.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t"}})
    backend.create(pod("gpu-task", capacity.node_selection("gpu")))
    backend.create(pod("fargate-task", capacity.node_selection("FARGATE")))
    backend.create(pod("plain", placement.PodPlacement()))
    where = {
        p["metadata"]["name"]: p["spec"].get("nodeName") for p in backend.list_all(kinds.POD, "t")
    }
    assert where == {
        "gpu-task": "kecs-node-2",
        "fargate-task": "kecs-node-1",
        "plain": "kecs-node-1",
    }


# -- base and weight ---------------------------------------------------------------------------


def test_base_first_then_weights() -> None:
    strategy = [
        {"capacityProvider": "A", "base": 2, "weight": 1},
        {"capacityProvider": "B", "weight": 3},
    ]
    sequence = capacity.provider_sequence(strategy, 10)
    assert sequence[:2] == ["A", "A"]
    assert Counter(sequence[2:]) == {"A": 2, "B": 6}
    assert capacity.distribution(strategy, 10) == {"A": 4, "B": 6}
    assert capacity.distribution(strategy, 1) == {"A": 1, "B": 0}
    assert [capacity.provider_for_index(strategy, i) for i in range(10)] == sequence


def test_a_strategy_without_weight_fills_only_its_base() -> None:
    strategy = [{"capacityProvider": "A", "base": 2, "weight": 0}]
    assert capacity.provider_sequence(strategy, 2) == ["A", "A"]
    with pytest.raises(MappingError, match="weight greater than zero"):
        capacity.provider_sequence(strategy, 3)
    with pytest.raises(ValueError):
        capacity.provider_for_index(strategy, -1)


strategies = st.lists(
    st.fixed_dictionaries({"weight": st.integers(0, 1000)}, optional={"base": st.integers(0, 20)}),
    min_size=1,
    max_size=5,
).map(
    lambda items: [
        {"capacityProvider": f"p{i}", **item, **({"base": 0} if i else {})}
        for i, item in enumerate(items)
    ]
)


@settings(max_examples=150)
@given(strategy=strategies, count=st.integers(0, 60))
def test_sequence_properties(strategy: list[dict[str, Any]], count: int) -> None:
    try:
        sequence = capacity.provider_sequence(strategy, count)
    except MappingError:
        assert all(s["weight"] == 0 for s in strategy)
        with pytest.raises(InvalidParameterException):
            run_task_sequence(strategy, count)
        return
    assert len(sequence) == count
    assert sequence == capacity.provider_sequence(strategy, count)  # deterministic
    assert sequence == run_task_sequence(strategy, count)  # what RunTask does
    base = min(strategy[0].get("base") or 0, count)
    assert sequence[:base] == ["p0"] * base
    rest = Counter(sequence[base:])
    total = sum(s["weight"] for s in strategy)
    for item in strategy:
        share = (count - base) * item["weight"] / total if total else 0
        assert abs(rest[item["capacityProvider"]] - share) < 1  # as even as whole tasks allow
    distribution = capacity.distribution(strategy, count)
    assert sum(distribution.values()) == count
    assert list(distribution) == [s["capacityProvider"] for s in strategy]
    prefix = capacity.provider_sequence(strategy, count // 2)
    assert sequence[: count // 2] == prefix  # launching more never reshuffles earlier tasks
