"""The task rendering gives exactly what it gave before its performance rewrite.

:mod:`tests.mapping.reference` keeps frozen copies of ``task_status``, ``pod_state`` and
``task_containers`` as they were; every pod (in any state, with and without a task definition,
overrides, awsvpc settings, odd annotations, service owners, nodes) must render the same.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs.mapping import pod_state, task_keys
from kecs.mapping.task_status import pod_to_task
from tests.mapping.reference import pod_state as reference_pod_state
from tests.mapping.reference.task_status import pod_to_task as reference_pod_to_task
from tests.strategies_k8s import NOW, WHERE, at, offsets, pod_statuses, task_pods

EXAMPLES = settings(
    max_examples=250, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

NODES = [
    None,
    {"metadata": {"name": "node-a", "uid": "11111111-2222-4333-8444-555555555555"}},
    {
        "metadata": {
            "name": "node-a",
            "uid": "AAAAAAAA-2222-4333-8444-555555555555",
            "labels": {"topology.kubernetes.io/zone": "us-east-1b"},
        }
    },
    {
        "metadata": {
            "name": "node-a",
            "labels": {
                "topology.kubernetes.io/zone": "",
                "failure-domain.beta.kubernetes.io/zone": "eu-west-1c",
            },
        }
    },
    {"metadata": {"name": "node-a", "labels": None, "uid": None}},
]


@st.composite
def overrides(draw: st.DrawFn, names: list[str]) -> Any:
    container = st.fixed_dictionaries(
        {"name": st.sampled_from([*names, "other"])},
        optional={
            "cpu": st.integers(0, 2048),
            "memory": st.integers(0, 4096),
            "memoryReservation": st.integers(0, 512),
            "command": st.just(["sleep", "1"]),
        },
    )
    return draw(
        st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "containerOverrides": st.lists(st.one_of(container, st.just("x")), max_size=3),
                    "taskRoleArn": st.just("arn:aws:iam::000000000000:role/r"),
                    "cpu": st.just("512"),
                    "inferenceAcceleratorOverrides": st.just([]),
                },
            ),
            st.just([1, 2]),
            st.just("not json"),
        )
    )


NETWORK_CONFIGURATIONS = st.one_of(
    st.just({"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"]}}),
    st.just({"awsvpcConfiguration": {"subnets": []}}),
    st.just({"awsvpcConfiguration": "odd"}),
    st.just([]),
)


def _annotate(notes: dict[str, Any], key: str, value: Any) -> None:
    notes[key] = value if isinstance(value, str) else json.dumps(value)


@st.composite
def perturbed(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A task pod in any state, with the rarer things the pod and its readers can carry."""
    pod, td = draw(task_pods())
    pod = copy.deepcopy(pod)
    meta = pod["metadata"]
    notes = meta.setdefault("annotations", {})
    names = [c["name"] for c in td["containerDefinitions"]]
    optional = st.booleans()
    if draw(optional):
        _annotate(notes, task_keys.OVERRIDES, draw(overrides(names)))
    if draw(optional):
        _annotate(notes, task_keys.NETWORK_CONFIGURATION, draw(NETWORK_CONFIGURATIONS))
    for key, values in (
        (task_keys.NETWORK_MODE, ["awsvpc", "bridge", ""]),
        (task_keys.CAPACITY_PROVIDER, ["FARGATE_SPOT", ""]),
        (task_keys.PLATFORM_VERSION, ["LATEST", "1.3.0"]),
        (task_keys.EPHEMERAL_STORAGE, ["30", "x"]),
        (task_keys.TASK_CPU, ["1024", ""]),
        (task_keys.TASK_MEMORY, ["2048"]),
        (task_keys.GROUP, ["service:web", ""]),
        (task_keys.ENABLE_EXECUTE_COMMAND, ["true", "false"]),
        (task_keys.TAGS, ['[1, {"key": "k", "value": "v"}]', "{}", "bad"]),
        (task_keys.TASK_METADATA, ['{"networkMode": "awsvpc"}', "[]", "bad"]),
    ):
        if draw(st.sampled_from([False, False, True])):
            notes[key] = draw(st.sampled_from(values))
    for key in (
        task_keys.CONTAINER_NAMES,
        task_keys.CONTAINERS,
        task_keys.TASK_DEFINITION_ARN,
        task_keys.LAUNCH_TYPE,
        task_keys.STARTED_BY,
    ):
        if draw(st.sampled_from([False, False, False, True])):
            notes.pop(key, None)
    if draw(st.sampled_from([False, False, False, True])):
        notes[task_keys.CONTAINER_NAMES] = draw(st.sampled_from(["bad", "[]", '{"x": 1}']))
    if draw(st.sampled_from([False, False, False, True])):
        kind = draw(st.sampled_from(["ReplicaSet", "DaemonSet", "Job"]))
        meta["ownerReferences"] = [
            {"kind": kind, "uid": "u-1", "controller": draw(optional), "name": "o"}
        ]
        meta.setdefault("labels", {})[task_keys.CONTROLLER_REVISION_HASH] = "abc"
    if draw(st.sampled_from([False, False, False, True])):
        meta["resourceVersion"] = draw(st.sampled_from(["x7", "", None]))
    status = pod.get("status") or {}
    if draw(st.sampled_from([False, False, False, True])):
        status["podIPs"] = [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}]
    if draw(st.sampled_from([False, False, False, True])):
        status["reason"] = draw(st.sampled_from(["Evicted", "NodeLost", "Other"]))
        status["message"] = "m"
    for container in pod["spec"].get("containers") or []:
        if draw(st.sampled_from([False, False, True])):
            container["readinessProbe"] = {
                "exec": {"command": ["true"]},
                "initialDelaySeconds": draw(st.sampled_from([0, 5, 100000])),
            }
        if draw(st.sampled_from([False, False, False, True])):
            container["startupProbe"] = {"exec": {"command": ["true"]}}
    if draw(st.sampled_from([False, False, False, True])):
        pod["spec"].pop("containers", None)
    if draw(st.sampled_from([False, False, False, True])):
        notes[task_keys.STOPPING_AT] = at(draw(offsets))
    return pod, (td if draw(st.sampled_from([True, True, False])) else None)


@EXAMPLES
@given(perturbed(), st.sampled_from(NODES), st.booleans())
def test_pod_to_task_is_unchanged(
    case: tuple[dict[str, Any], dict[str, Any] | None], node: Any, include_tags: bool
) -> None:
    pod, td = case
    options: dict[str, Any] = {"node": node, "now": NOW, "include_tags": include_tags, **WHERE}
    expected = reference_pod_to_task(pod, task_definition=td, **options)
    before = copy.deepcopy(pod)
    task = pod_to_task(pod, task_definition=td, **options)
    assert task == expected
    # Same members in the same order (the JSON text of an answer does not change either).
    assert json.dumps(task, default=repr) == json.dumps(expected, default=repr)
    assert pod == before
    # Twice: whatever is cached from the first call gives the same answer.
    assert pod_to_task(pod, task_definition=td, **options) == expected


@EXAMPLES
@given(perturbed())
def test_pod_state_is_unchanged(case: tuple[dict[str, Any], dict[str, Any] | None]) -> None:
    pod, td = case
    for definition in (td, None):
        views = pod_state.containers(pod, definition)
        expected = reference_pod_state.containers(pod, definition)
        assert [(v.k8s_name, v.ecs_name, v.essential) for v in views] == [
            (v.k8s_name, v.ecs_name, v.essential) for v in expected
        ]
        state = pod_state.task_state(pod, views, NOW)
        old = reference_pod_state.task_state(pod, expected, NOW)
        assert (state.last_status, state.desired_status, state.stop_code, state.stopped_reason) == (
            old.last_status,
            old.desired_status,
            old.stop_code,
            old.stopped_reason,
        )
        assert [v.k8s_name for v in state.exited_essential] == [
            v.k8s_name for v in old.exited_essential
        ]
        assert [v.k8s_name for v in state.start_failures] == [
            v.k8s_name for v in old.start_failures
        ]
        assert [(v.started_at(), v.finished_at()) for v in views] == [
            (v.started_at(), v.finished_at()) for v in expected
        ]


def test_the_strategy_reaches_the_usual_states() -> None:
    """Sanity: the reference sees running, stopped and pending tasks from the strategy."""
    seen: set[str] = set()

    @settings(max_examples=150, suppress_health_check=list(HealthCheck))
    @given(task_pods().flatmap(lambda case: pod_statuses(case[0]).map(lambda p: (p, case[1]))))
    def collect(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
        pod, td = case
        options: dict[str, Any] = {"node": None, "now": NOW, **WHERE}
        seen.add(reference_pod_to_task(pod, task_definition=td, **options)["lastStatus"])

    collect()
    assert {"RUNNING", "STOPPED", "PENDING"} <= seen
