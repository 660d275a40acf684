"""Builders and hypothesis strategies for Kubernetes *state*: task pods in every phase of their
life, Deployments with ReplicaSets, DaemonSets with ControllerRevisions -- shaped as
``kubectl get -o json`` shows them (every generated object validates against the schema).

Builders (plain functions) serve example tests; strategies (``@st.composite``) draw the same
shapes for property tests.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from kecs import arns
from kecs.mapping import k8s_time, task_containers, task_keys
from kecs.mapping.service_workload import daemon_set, deployment
from kecs.mapping.task_pod import task_pod
from kecs.mapping.taskdef import to_pod_template
from tests.strategies import task_definitions

REGION, ACCOUNT, CLUSTER, NAMESPACE = "us-east-1", "000000000000", "default", "ns-default"
BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
NOW = BASE + timedelta(hours=2)
WHERE = {"region": REGION, "account": ACCOUNT, "cluster_name": CLUSTER}


def at(seconds: float) -> str:
    return k8s_time.format(BASE + timedelta(seconds=seconds))


def described(td: dict[str, Any], revision: int = 1) -> dict[str, Any]:
    """``td`` as DescribeTaskDefinition returns it (ARN, revision, family)."""
    out = copy.deepcopy(td)
    out.setdefault("family", "web")
    out["revision"] = revision
    out["taskDefinitionArn"] = arns.task_definition(REGION, ACCOUNT, out["family"], revision)
    return out


def simple_td(
    *containers: dict[str, Any], network_mode: str | None = "awsvpc", **extra: Any
) -> dict[str, Any]:
    body = list(containers) or [{"name": "web", "image": "nginx", "essential": True}]
    td: dict[str, Any] = {"family": "web", "containerDefinitions": body, **extra}
    if network_mode:
        td["networkMode"] = network_mode
    return described(td)


def new_pod(
    td: dict[str, Any], *, uid: str = "0b1a4979-3846-4e3e-846f-b63a9ad545b0", **kwargs: Any
) -> dict[str, Any]:
    """A task pod as RunTask creates it, as the API server stores it (uid, times)."""
    template = to_pod_template(td, region=REGION).template
    pod = task_pod(
        template, name=f"task-{uid[:8]}", namespace=NAMESPACE, task_definition=td, **WHERE, **kwargs
    )
    pod["metadata"].update(uid=uid, resourceVersion="1", creationTimestamp=at(0))
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    return pod


# -- container states ---------------------------------------------------------------------------


def waiting(reason: str = "ContainerCreating", message: str | None = None) -> dict[str, Any]:
    detail = {"reason": reason}
    if message:
        detail["message"] = message
    return {"waiting": detail}


def running(start: float) -> dict[str, Any]:
    return {"running": {"startedAt": at(start)}}


def terminated(
    code: int, start: float | None, end: float, reason: str | None = None
) -> dict[str, Any]:
    detail: dict[str, Any] = {"exitCode": code, "finishedAt": at(end)}
    detail["reason"] = reason or ("Completed" if code == 0 else "Error")
    if start is not None:
        detail["startedAt"] = at(start)
    return {"terminated": detail}


def container_status(
    container: dict[str, Any],
    state: dict[str, Any] | None,
    *,
    ready: bool = False,
    restarts: int = 0,
    last: dict[str, Any] | None = None,
) -> dict[str, Any]:
    image = str(container.get("image") or "nginx")
    status: dict[str, Any] = {
        "name": container["name"],
        "image": image,
        "imageID": "",
        "ready": ready,
        "restartCount": restarts,
        "lastState": last or {},
        "state": state or waiting(),
    }
    if state and ("running" in state or "terminated" in state):
        status["imageID"] = f"docker.io/library/{image.split('@')[0]}@sha256:{'ab' * 32}"
        status["containerID"] = f"containerd://{container['name'][:8]}{'0' * 56}"
        status["started"] = "running" in state
    return status


def with_status(
    pod: dict[str, Any],
    states: dict[str, dict[str, Any] | None] | None = None,
    *,
    node: str | None = "node-a",
    phase: str | None = None,
    ready: dict[str, bool] | None = None,
    deleted: float | None = None,
    grace: int = 30,
    unschedulable: bool = False,
    extra_conditions: Sequence[dict[str, Any]] = (),
    pod_ip: str | None = "10.0.0.5",
    **status_fields: Any,
) -> dict[str, Any]:
    """``pod`` with a status: container states by Kubernetes name (missing ones waiting)."""
    pod = copy.deepcopy(pod)
    states = states or {}
    ready = ready or {}
    init = pod["spec"].get("initContainers") or []
    regular = pod["spec"]["containers"]
    status: dict[str, Any] = {"qosClass": "BestEffort"}
    conditions: list[dict[str, Any]] = []
    if node:
        pod["spec"]["nodeName"] = node
        conditions.append({"type": "PodScheduled", "status": "True", "lastTransitionTime": at(1)})
        status.update(hostIP="192.168.0.10", startTime=at(1))
        if pod_ip:
            status.update(podIP=pod_ip, podIPs=[{"ip": pod_ip}])

        def build(c: dict[str, Any]) -> dict[str, Any]:
            state = states.get(c["name"])
            return container_status(
                c, state, ready=ready.get(c["name"], bool(state and "running" in state))
            )

        if init:
            status["initContainerStatuses"] = [build(c) for c in init]
        status["containerStatuses"] = [build(c) for c in regular]
        all_ready = all(s["ready"] for s in status["containerStatuses"])
        flag = "True" if all_ready else "False"
        conditions.append({"type": "ContainersReady", "status": flag, "lastTransitionTime": at(2)})
        conditions.append({"type": "Ready", "status": flag, "lastTransitionTime": at(2)})
    else:
        scheduled = {"type": "PodScheduled", "status": "False", "lastTransitionTime": at(1)}
        if unschedulable:
            scheduled.update(reason="Unschedulable", message="0/3 nodes are available.")
        conditions.append(scheduled)
    conditions.extend(extra_conditions)
    status["conditions"] = conditions
    if phase is None:
        phase = "Running" if any(s and "running" in s for s in states.values()) else "Pending"
    status["phase"] = phase
    status.update(status_fields)
    pod["status"] = status
    if deleted is not None:
        moment = BASE + timedelta(seconds=deleted + grace)
        pod["metadata"]["deletionTimestamp"] = k8s_time.format(moment)
        pod["metadata"]["deletionGracePeriodSeconds"] = grace
    return pod


def k8s_names(pod: dict[str, Any]) -> list[str]:
    """Kubernetes names of the pod's ECS containers, in ECS order."""
    return list(task_containers.name_map(pod))


def owned_by(pod: dict[str, Any], owner: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    meta = owner["metadata"]
    pod["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": owner["kind"],
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    return pod


# -- strategies: task pods -----------------------------------------------------------------------

uids = st.uuids().map(str)
offsets = st.integers(0, 3600)
WAITING_REASONS = [
    "ContainerCreating",
    "PodInitializing",
    "ErrImagePull",
    "ImagePullBackOff",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
]
TERMINATED_REASONS = ["Completed", "Error", "OOMKilled", "StartError", None]


@st.composite
def task_definition_examples(draw: st.DrawFn) -> dict[str, Any]:
    return described(draw(task_definitions(max_containers=3)), draw(st.integers(1, 40)))


mostly = st.sampled_from([True, True, True, False])
rarely = st.sampled_from([False, False, False, True])


@st.composite
def container_states(
    draw: st.DrawFn, kind: str | None = None
) -> tuple[dict[str, Any] | None, bool, int, dict[str, Any]]:
    """(state, ready, restartCount, lastState) of one container."""
    if kind is None:
        kind = draw(st.sampled_from(["none", "waiting", "running", "terminated"]))
    restarts = draw(st.integers(0, 2)) if draw(rarely) else 0
    last: dict[str, Any] = {}
    if restarts:
        start = draw(offsets)
        last = terminated(draw(st.integers(0, 255)), start, start + draw(offsets))
    if kind == "none":
        return None, False, 0, {}
    if kind == "waiting":
        return waiting(draw(st.sampled_from(WAITING_REASONS)), "boom"), False, restarts, last
    start = draw(offsets)
    if kind == "running":
        return running(start), draw(mostly), restarts, last
    reason = draw(st.sampled_from(TERMINATED_REASONS))
    state = terminated(draw(st.integers(0, 255)), start, start + draw(offsets), reason)
    return state, False, restarts, last


@st.composite
def pod_statuses(draw: st.DrawFn, pod: dict[str, Any]) -> dict[str, Any]:
    """``pod`` in any state its life can put it in (and some it rarely reaches)."""
    scheduled = draw(mostly)
    deleted = draw(st.one_of(st.none(), offsets))
    extra: list[dict[str, Any]] = []
    if draw(rarely):
        reason = draw(st.sampled_from(["DeletionByTaintManager", "EvictionByEvictionAPI"]))
        extra.append({"type": "DisruptionTarget", "status": "True", "reason": reason})
    result = with_status(
        pod,
        node="node-a" if scheduled else None,
        phase="Pending",
        deleted=deleted,
        grace=draw(st.sampled_from([0, 30])),
        unschedulable=draw(st.booleans()),
        extra_conditions=extra,
    )
    if scheduled:
        mode = draw(st.sampled_from([None, "running", "running", "waiting", "terminated"]))
        for key in ("initContainerStatuses", "containerStatuses"):
            for status in result["status"].get(key, []):
                state, ready, restarts, last = draw(container_states(mode))
                if state is not None:
                    status.update(
                        container_status(
                            {"name": status["name"], "image": status["image"]},
                            state,
                            ready=ready,
                            restarts=restarts,
                            last=last,
                        )
                    )
        statuses = result["status"].get("containerStatuses", [])
        ready = all(c.get("ready") for c in statuses)
        for condition in result["status"]["conditions"]:
            if condition["type"] in ("Ready", "ContainersReady"):
                condition["status"] = "True" if ready else "False"
        result["status"]["phase"] = draw(
            st.sampled_from(["Pending", "Running", "Running", "Succeeded", "Failed", "Unknown"])
        )
    meta = result["metadata"]
    meta["resourceVersion"] = str(draw(st.integers(1, 10_000)))
    if draw(rarely):
        annotations = meta["annotations"]
        annotations[task_keys.STOP_CODE] = draw(
            st.sampled_from(["UserInitiated", "ServiceSchedulerInitiated", "TaskFailedToStart"])
        )
        annotations[task_keys.STOPPED_REASON] = draw(st.sampled_from(["Task stopped by user", "x"]))
        annotations[task_keys.STOPPING_AT] = at(draw(offsets))
    return result


@st.composite
def task_pods(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod, task definition) with the pod in any state."""
    td = draw(task_definition_examples())
    launch_type = draw(st.sampled_from(["EC2", "FARGATE", "EXTERNAL", None]))
    pod = new_pod(
        td,
        uid=draw(uids),
        launch_type=launch_type,
        started_by=draw(st.one_of(st.none(), st.just("me"))),
        tags=[{"key": "team", "value": "a"}],
    )
    return draw(pod_statuses(pod)), td


# -- lifecycles (for monotonicity) -----------------------------------------------------------


def lifecycle(pod: dict[str, Any], path: str) -> list[dict[str, Any]]:
    """The states a task pod passes through on one of its usual paths, in order.

    ``stop``: started, then stopped by a deletion; ``exit``: its essential container exits;
    ``pull``: its image cannot be pulled, then it is deleted.
    """
    names = [
        c["name"] for c in [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]
    ]
    first, rest = names[0], names[1:]
    all_running = {n: running(10) for n in names}
    stages = [
        with_status(pod, node=None),
        with_status(pod, {n: waiting() for n in names}),
    ]
    if path == "pull":
        failed = {first: waiting("ErrImagePull", "pull access denied")}
        stages += [
            with_status(pod, failed),
            with_status(pod, failed, deleted=20),
            with_status(pod, failed, deleted=20, phase="Failed"),
        ]
        return stages
    stages += [
        with_status(pod, {first: running(10), **{n: waiting() for n in rest}}),
        with_status(pod, all_running, ready={n: False for n in names}),
        with_status(pod, all_running),
    ]
    if path == "exit":
        exited = {**all_running, first: terminated(1, 10, 50)}
        done = {n: terminated(143, 10, 60) for n in rest}
        stages += [
            with_status(pod, exited, ready={n: n != first for n in names}),
            with_status(pod, {**exited, **done}, deleted=55),
            with_status(pod, {**exited, **done}, deleted=55, phase="Failed"),
        ]
        return stages
    killed = {n: terminated(143, 10, 70) for n in names}
    stages += [
        with_status(pod, all_running, deleted=60),
        with_status(pod, {**all_running, first: killed[first]}, deleted=60),
        with_status(pod, killed, deleted=60),
        with_status(pod, killed, deleted=60, phase="Failed"),
    ]
    return stages


# -- services ----------------------------------------------------------------------------------


def service_spec(td: dict[str, Any], **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceName": "web",
        "taskDefinition": td["taskDefinitionArn"],
        "desiredCount": 2,
        "launchType": "FARGATE",
    }
    spec.update(extra)
    return spec


def new_workload(
    td: dict[str, Any], spec: dict[str, Any], uid: str = "d0000000-0000-4000-8000-000000000001"
) -> dict[str, Any]:
    template = to_pod_template(td, region=REGION).template
    build = daemon_set if spec.get("schedulingStrategy") == "DAEMON" else deployment
    obj = build(template, spec, namespace=NAMESPACE, task_definition=td, **WHERE)
    obj["metadata"].update(uid=uid, generation=1, resourceVersion="1", creationTimestamp=at(0))
    return obj


def replica_set(
    workload: dict[str, Any],
    revision: int,
    replicas: int,
    *,
    created: float = 0,
    template: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ReplicaSet the Deployment controller would create for ``revision``."""
    pod_hash = f"{revision:03d}abcd"
    template = copy.deepcopy(template or workload["spec"]["template"])
    template["metadata"]["labels"][task_keys.POD_TEMPLATE_HASH] = pod_hash
    name = f"{workload['metadata']['name']}-{pod_hash}"
    uid = f"5e000000-0000-4000-8000-{revision:012d}"
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": uid,
            "resourceVersion": "1",
            "generation": 1,
            "creationTimestamp": at(created),
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {
                task_keys.K8S_REVISION: str(revision),
                "deployment.kubernetes.io/desired-replicas": str(
                    workload["spec"].get("replicas", 0)
                ),
            },
        },
        "spec": {
            "replicas": replicas,
            "selector": {
                "matchLabels": {
                    **workload["spec"]["selector"]["matchLabels"],
                    task_keys.POD_TEMPLATE_HASH: pod_hash,
                }
            },
            "template": template,
        },
        "status": {"replicas": replicas, "observedGeneration": 1},
    }
    return owned_by(rs, workload)


def controller_revision(
    workload: dict[str, Any], revision: int, created: float = 0
) -> dict[str, Any]:
    revision_hash = f"{revision:03d}dcba"
    template = copy.deepcopy(workload["spec"]["template"])
    cr = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"{workload['metadata']['name']}-{revision_hash}",
            "namespace": NAMESPACE,
            "uid": f"c0000000-0000-4000-8000-{revision:012d}",
            "creationTimestamp": at(created),
            "labels": {
                **workload["spec"]["selector"]["matchLabels"],
                task_keys.CONTROLLER_REVISION_HASH: revision_hash,
            },
        },
        "data": {"spec": {"template": {**template, "$patch": "replace"}}},
        "revision": revision,
    }
    return owned_by(cr, workload)


def rs_pod(rs: dict[str, Any], uid: str, created: float = 5) -> dict[str, Any]:
    """A pod the ReplicaSet controller creates from ``rs``'s template."""
    template = copy.deepcopy(rs["spec"]["template"])
    meta = template["metadata"]
    meta.update(
        name=f"{rs['metadata']['name']}-{uid[:5]}",
        namespace=NAMESPACE,
        uid=uid,
        resourceVersion="1",
        creationTimestamp=at(created),
    )
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]}
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    return owned_by(pod, rs)


def daemon_pod(
    workload: dict[str, Any], cr: dict[str, Any], uid: str, created: float = 5
) -> dict[str, Any]:
    template = copy.deepcopy(workload["spec"]["template"])
    meta = template["metadata"]
    revision_hash = cr["metadata"]["labels"][task_keys.CONTROLLER_REVISION_HASH]
    meta["labels"][task_keys.CONTROLLER_REVISION_HASH] = revision_hash
    meta.update(
        name=f"{workload['metadata']['name']}-{uid[:5]}",
        namespace=NAMESPACE,
        uid=uid,
        resourceVersion="1",
        creationTimestamp=at(created),
    )
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]}
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    return owned_by(pod, workload)


def deployment_status(
    workload: dict[str, Any],
    reason: str,
    *,
    replicas: int,
    updated: int,
    available: int,
    rs_name: str,
    when: float = 30,
) -> dict[str, Any]:
    """``workload`` with a Deployment status whose Progressing condition has ``reason``."""
    workload = copy.deepcopy(workload)
    messages = {
        "NewReplicaSetAvailable": f'ReplicaSet "{rs_name}" has successfully progressed.',
        "ReplicaSetUpdated": f'ReplicaSet "{rs_name}" is progressing.',
        "NewReplicaSetCreated": f'Created new replica set "{rs_name}"',
        "ProgressDeadlineExceeded": f'ReplicaSet "{rs_name}" has timed out progressing.',
    }
    flag = "False" if reason == "ProgressDeadlineExceeded" else "True"
    desired = workload["spec"]["replicas"]
    workload["status"] = {
        "observedGeneration": workload["metadata"]["generation"],
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": available,
        "availableReplicas": available,
        "conditions": [
            {
                "type": "Available",
                "status": "True" if available >= desired else "False",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
                "lastUpdateTime": at(when),
                "lastTransitionTime": at(when),
            },
            {
                "type": "Progressing",
                "status": flag,
                "reason": reason,
                "message": messages[reason],
                "lastUpdateTime": at(when),
                "lastTransitionTime": at(when),
            },
        ],
    }
    if available < replicas:
        workload["status"]["unavailableReplicas"] = replicas - available
    return workload


@st.composite
def services(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """(workload, revisions, pods) of a REPLICA or DAEMON service in any state."""
    td = simple_td(
        {"name": "web", "image": "nginx", "portMappings": [{"containerPort": 80}]},
        {"name": "log_router", "image": "fluent", "essential": False},
    )
    daemon = draw(st.booleans())
    breaker = draw(st.booleans())
    spec = service_spec(
        td,
        desiredCount=draw(st.integers(0, 4)),
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": breaker, "rollback": breaker}
        },
        **({"schedulingStrategy": "DAEMON", "launchType": "EC2"} if daemon else {}),
    )
    workload = new_workload(td, spec)
    count = draw(st.integers(1, 3))
    pods: list[dict[str, Any]] = []
    revisions: list[dict[str, Any]] = []
    for revision in range(1, count + 1):
        created = revision * 100
        if daemon:
            obj = controller_revision(workload, revision, created)
        else:
            obj = replica_set(workload, revision, draw(st.integers(0, 3)), created=created)
        revisions.append(obj)
        for _ in range(draw(st.integers(0, 3))):
            uid = draw(uids)
            pod = (
                daemon_pod(workload, obj, uid, created + 1)
                if daemon
                else rs_pod(obj, uid, created + 1)
            )
            pods.append(draw(pod_statuses(pod)))
    if daemon:
        desired = draw(st.integers(0, 3))
        workload["status"] = {
            "observedGeneration": draw(st.integers(0, 1)),
            "currentNumberScheduled": desired,
            "desiredNumberScheduled": desired,
            "numberMisscheduled": 0,
            "numberReady": draw(st.integers(0, desired)),
            "updatedNumberScheduled": draw(st.integers(0, desired)),
            "numberAvailable": draw(st.integers(0, desired)),
        }
    else:
        newest = revisions[-1]["metadata"]["name"]
        reason = draw(
            st.sampled_from(
                ["NewReplicaSetAvailable", "ReplicaSetUpdated", "ProgressDeadlineExceeded", None]
            )
        )
        replicas = draw(st.integers(0, 4))
        if reason is None:
            workload["status"] = {"observedGeneration": 1, "replicas": replicas}
        else:
            workload = deployment_status(
                workload,
                reason,
                replicas=replicas,
                updated=draw(st.integers(0, replicas)),
                available=draw(st.integers(0, replicas)),
                rs_name=newest,
            )
    if draw(st.booleans()):
        workload["metadata"]["annotations"][task_keys.SERVICE_STATUS] = "DRAINING"
    return workload, revisions, pods
