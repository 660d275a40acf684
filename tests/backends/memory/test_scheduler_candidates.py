"""The scheduler's candidate index picks exactly the node a pass over every node picks.

Every scheduling decision in these runs is made both ways (the index, and the full pass the
scheduler uses for pods with inter-pod rules and for failure messages) and must agree, across
random node shapes, labels, taints, cordons, pods coming and going, owners and the autoscaler.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend, NodeSpec
from kecs.backends.memory.apiserver import controller_uid
from kecs.backends.memory.controllers.scheduler import Scheduler
from tests.backends.memory.helpers import NS, container, deployment, fresh, pod


def _checked(backend: MemoryBackend) -> list[tuple[str | None, str | None]]:
    """Make the backend's scheduler compare both ways at every decision; the decisions."""
    scheduler: Scheduler = backend._cluster.scheduler
    decisions: list[tuple[str | None, str | None]] = []
    choose = scheduler._choose

    def both(pod: Any, requests: Any, context: Any, **options: Any) -> Any:
        full = scheduler._pick(pod, requests, context)
        if context is None:
            # The index alone, without the full pass it falls back to when it finds nothing.
            indexed = scheduler.candidates.best(pod["spec"], requests, controller_uid(pod))
            decisions.append((indexed, full[0]))
            assert indexed == full[0], (pod["metadata"]["name"], indexed, full[0])
        answer = choose(pod, requests, context, **options)
        assert answer[0] == full[0]
        return answer

    scheduler._choose = both  # type: ignore[method-assign]
    return decisions


_node = st.builds(
    NodeSpec,
    cpu=st.sampled_from(["1", "2", "4"]),
    memory=st.sampled_from(["1Gi", "2Gi", "4Gi"]),
    pods=st.integers(2, 6),
    labels=st.sampled_from([{}, {"tier": "a"}, {"tier": "b"}]),
    taints=st.sampled_from([(), ({"key": "gpu", "value": "yes", "effect": "NoSchedule"},)]),
)
_request = st.fixed_dictionaries(
    {"cpu": st.sampled_from(["100m", "250m", "500m"]), "memory": st.sampled_from(["64Mi", "300Mi"])}
)
_action = st.one_of(
    st.tuples(
        st.just("pod"),
        _request,
        st.sampled_from([None, {"tier": "a"}, {"tier": "b"}]),
        st.booleans(),  # tolerate the gpu taint
    ),
    st.tuples(st.just("delete"), st.integers(0, 40)),
    st.tuples(st.just("cordon"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("node"), _node),
    st.tuples(st.just("scale"), st.integers(0, 6)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    nodes=st.lists(_node, min_size=1, max_size=4),
    autoscale=st.booleans(),
    actions=st.lists(_action, max_size=30),
)
def test_the_index_and_the_full_pass_agree(
    nodes: list[NodeSpec], autoscale: bool, actions: list[tuple[Any, ...]]
) -> None:
    backend = fresh(nodes=nodes, autoscale=autoscale)
    decisions = _checked(backend)
    backend.create(deployment("web", 0))
    made: list[str] = []
    for index, action in enumerate(actions):
        if action[0] == "pod":
            _, requests, selector, tolerate = action
            spec: dict[str, Any] = {}
            if selector:
                spec["nodeSelector"] = selector
            if tolerate:
                spec["tolerations"] = [{"key": "gpu", "operator": "Exists"}]
            name = f"p-{index}"
            backend.create(pod(name, container(resources={"requests": requests}), **spec))
            made.append(name)
        elif action[0] == "delete" and made:
            name = made.pop(action[1] % len(made))
            backend.delete(kinds.POD, name, NS, grace_period_seconds=0)
        elif action[0] == "cordon":
            names = [n["metadata"]["name"] for n in backend.list(kinds.NODE).items]
            backend.simulator.cordon(names[action[1] % len(names)], action[2])
        elif action[0] == "node":
            backend.add_node(action[1])
        elif action[0] == "scale":
            backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": action[1]}}, NS)
    assert all(a == b for a, b in decisions)


def test_a_thousand_pods_on_an_autoscaled_cluster_agree() -> None:
    backend = fresh(nodes=[NodeSpec(cpu="1", memory="2Gi", pods=30)])
    decisions = _checked(backend)
    for index in range(300):
        requests = {"cpu": "50m" if index % 3 else "120m", "memory": "64Mi"}
        backend.create(pod(f"p-{index}", container(resources={"requests": requests})))
        if index % 7 == 0:
            backend.delete(kinds.POD, f"p-{index // 2}", NS, grace_period_seconds=0)
    nodes = backend.list(kinds.NODE).items
    assert len(nodes) > 5  # the autoscaler had to add nodes
    assert len(decisions) >= 300
