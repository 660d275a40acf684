"""The kubelet: running pods, init containers and sidecars, restarts, deadlines, termination."""

from __future__ import annotations

import pytest

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from tests.backends.memory.helpers import NS, condition, container, container_status, pod, state

NOW = "2026-01-01T12:00:00Z"


def get(backend: MemoryBackend, name: str = "p") -> dict[str, object]:
    return backend.get(kinds.POD, name, NS)


def test_a_scheduled_pod_runs_at_once(backend: MemoryBackend) -> None:
    backend.create(pod("p", container("app", "nginx:1.27")))
    status = get(backend)["status"]
    assert status["phase"] == "Running"
    assert status["startTime"] == NOW
    assert status["hostIP"] == status["hostIPs"][0]["ip"]
    assert status["podIP"] == status["podIPs"][0]["ip"]
    assert [c["type"] for c in status["conditions"]] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert all(c["status"] == "True" for c in status["conditions"])
    (app,) = status["containerStatuses"]
    assert app["state"] == {"running": {"startedAt": NOW}}
    assert app["ready"] is True and app["started"] is True and app["restartCount"] == 0
    assert app["lastState"] == {}
    assert app["image"] == "docker.io/library/nginx:1.27"
    assert app["imageID"].startswith("docker.io/library/nginx@sha256:")
    assert app["containerID"].startswith("containerd://")


def test_host_network_pods_have_the_nodes_address(backend: MemoryBackend) -> None:
    backend.create(pod("p", hostNetwork=True))
    status = get(backend)["status"]
    assert status["podIP"] == status["hostIP"]


def test_init_containers_complete_in_order_and_sidecars_keep_running(
    backend: MemoryBackend,
) -> None:
    init_containers = [
        container("migrate", "migrate:1"),
        container("proxy", "envoy:1", restartPolicy="Always"),
        container("warm", "warm:1"),
    ]
    backend.create(pod("p", container("app"), initContainers=init_containers))
    obj = get(backend)
    assert [c["name"] for c in obj["status"]["initContainerStatuses"]] == [
        "migrate",
        "proxy",
        "warm",
    ]
    kind, detail = state(obj, "migrate")
    assert kind == "terminated" and detail["exitCode"] == 0 and detail["reason"] == "Completed"
    assert container_status(obj, "migrate")["ready"] is True
    assert state(obj, "proxy")[0] == "running"
    assert container_status(obj, "proxy")["started"] is True
    assert state(obj, "warm")[0] == "terminated"
    assert state(obj, "app")[0] == "running"
    assert obj["status"]["phase"] == "Running"


def test_a_slow_init_container_holds_the_app_back(backend: MemoryBackend) -> None:
    backend.simulator.crash_on_start("migrate:*", 0, after=30)
    backend.create(pod("p", container("app"), initContainers=[container("migrate", "migrate:1")]))
    obj = get(backend)
    assert obj["status"]["phase"] == "Pending"
    assert state(obj, "migrate")[0] == "running"
    assert state(obj, "app") == ("waiting", {"reason": "PodInitializing"})
    initialized = condition(obj, "Initialized")
    assert initialized is not None and initialized["status"] == "False"
    assert initialized["reason"] == "ContainersNotInitialized"
    assert initialized["message"] == "containers with incomplete status: [migrate]"
    backend.advance(30)
    obj = get(backend)
    assert state(obj, "migrate")[1]["finishedAt"] == "2026-01-01T12:00:30Z"
    assert state(obj, "app")[0] == "running"


def test_a_failing_init_container_fails_a_never_restarting_pod(backend: MemoryBackend) -> None:
    backend.simulator.crash_on_start("migrate:*", 3)
    backend.create(
        pod("p", initContainers=[container("migrate", "migrate:1")], restartPolicy="Never")
    )
    obj = get(backend)
    assert obj["status"]["phase"] == "Failed"
    assert state(obj, "migrate")[1]["exitCode"] == 3
    assert state(obj, "app") == ("waiting", {"reason": "PodInitializing"})


# -- exits and restarts ------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "phase"), [(0, "Succeeded"), (2, "Failed")])
def test_restart_policy_never_ends_the_pod(backend: MemoryBackend, code: int, phase: str) -> None:
    backend.create(pod("p", container("app"), container("side", "busybox"), restartPolicy="Never"))
    backend.simulator.exit_container(NS, "p", "app", code)
    obj = get(backend)
    assert obj["status"]["phase"] == "Running"  # the other container still runs
    assert state(obj, "app")[1]["exitCode"] == code
    backend.simulator.exit_container(NS, "p", "side", 0)
    obj = get(backend)
    assert obj["status"]["phase"] == phase
    ready = condition(obj, "Ready")
    assert ready is not None and ready["status"] == "False"
    assert ready.get("reason") == ("PodCompleted" if phase == "Succeeded" else "ContainersNotReady")


def test_exit_reason_and_message_are_reported(backend: MemoryBackend) -> None:
    backend.create(pod("p", restartPolicy="Never"))
    backend.simulator.exit_container(
        NS, "p", "app", 137, reason="OOMKilled", message="out of memory"
    )
    detail = state(get(backend))[1]
    assert (detail["exitCode"], detail["reason"], detail["message"]) == (
        137,
        "OOMKilled",
        "out of memory",
    )
    assert detail["startedAt"] == NOW and detail["finishedAt"] == NOW


def test_restart_policy_always_restarts_with_back_off(backend: MemoryBackend) -> None:
    backend.create(pod("p"))
    backend.simulator.exit_container(NS, "p", "app", 1)
    status = container_status(get(backend))
    assert status["restartCount"] == 1
    assert "running" in status["state"]
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert get(backend)["status"]["phase"] == "Running"
    backend.simulator.exit_container(NS, "p", "app", 1)
    status = container_status(get(backend))
    assert status["restartCount"] == 1
    waiting = status["state"]["waiting"]
    assert waiting["reason"] == "CrashLoopBackOff"
    assert waiting["message"].startswith(
        "back-off 10s restarting failed container=app pod=p_default("
    )
    assert status["ready"] is False
    backend.advance(10)
    status = container_status(get(backend))
    assert status["restartCount"] == 2 and "running" in status["state"]
    backend.simulator.exit_container(NS, "p", "app", 1)
    assert "back-off 20s" in container_status(get(backend))["state"]["waiting"]["message"]


def test_a_crash_loop_backs_off_up_to_five_minutes(backend: MemoryBackend) -> None:
    backend.simulator.crash_on_start("nginx:*", 1)
    backend.create(pod("p"))
    delays = []
    for _ in range(8):
        message = container_status(get(backend))["state"]["waiting"]["message"]
        delay = message.split()[1]
        delays.append(delay)
        seconds = {"10s": 10, "20s": 20, "40s": 40, "1m20s": 80, "2m40s": 160, "5m0s": 300}[delay]
        backend.advance(seconds)
    assert delays == ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s", "5m0s"]
    assert container_status(get(backend))["restartCount"] == 9


def test_on_failure_restarts_only_failures(backend: MemoryBackend) -> None:
    backend.create(pod("p", restartPolicy="OnFailure"))
    backend.simulator.exit_container(NS, "p", "app", 1)
    assert container_status(get(backend))["restartCount"] == 1
    backend.simulator.exit_container(NS, "p", "app", 0)
    assert get(backend)["status"]["phase"] == "Succeeded"


def test_exit_needs_a_running_container(backend: MemoryBackend) -> None:
    from kecs.backends.memory import SimulationError

    backend.create(pod("p", restartPolicy="Never"))
    with pytest.raises(SimulationError, match='has no container "nope"'):
        backend.simulator.exit_container(NS, "p", "nope", 1)
    backend.simulator.exit_container(NS, "p", "app", 1)
    with pytest.raises(SimulationError, match="is not running"):
        backend.simulator.exit_container(NS, "p", "app", 1)


# -- deadlines -------------------------------------------------------------------------------


def test_active_deadline_seconds_fails_the_pod(backend: MemoryBackend) -> None:
    backend.create(pod("p", activeDeadlineSeconds=60, restartPolicy="Never"))
    backend.advance(59)
    assert get(backend)["status"]["phase"] == "Running"
    backend.advance(1)
    status = get(backend)["status"]
    assert status["phase"] == "Failed"
    assert status["reason"] == "DeadlineExceeded"
    assert status["message"] == "Pod was active on the node longer than the specified deadline"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 143 and terminated["finishedAt"] == "2026-01-01T12:01:00Z"


# -- termination -----------------------------------------------------------------------------


def test_termination_exit_code_follows_the_simulator(backend: MemoryBackend) -> None:
    backend.simulator.exit_code_on_sigterm("nginx:*", 0)
    backend.create(pod("p", finalizers=["example.com/keep"]))
    backend.delete(kinds.POD, "p", NS)
    obj = get(backend)
    assert obj["status"]["phase"] == "Succeeded"
    detail = state(obj)[1]
    assert detail["exitCode"] == 0 and detail["reason"] == "Completed"


def test_a_pending_pod_deleted_reports_unknown_containers(backend: MemoryBackend) -> None:
    backend.simulator.slow_start("nginx:*", 60)
    backend.create(pod("p", finalizers=["example.com/keep"]))
    backend.delete(kinds.POD, "p", NS)
    detail = state(get(backend))[1]
    assert detail["reason"] == "ContainerStatusUnknown" and detail["exitCode"] == 137


# -- images ----------------------------------------------------------------------------------


@pytest.mark.parametrize("image", ["", "nginx:<tag>", "Nginx", "${IMAGE}", "a b", "{x}"])
def test_invalid_image_names(backend: MemoryBackend, image: str) -> None:
    backend.create(pod("p", container("app", image)))
    obj = get(backend)
    kind, detail = state(obj)
    assert kind == "waiting" and detail["reason"] == "InvalidImageName"
    assert detail["message"] == (
        f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": '
        "invalid reference format"
    )
    assert obj["status"]["phase"] == "Pending"


VALID_IMAGES = [
    "nginx",
    "nginx:1.27",
    "library/nginx",
    "public.ecr.aws/nginx/nginx:latest",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1",
    "localhost:5000/a/b",
    "nginx@sha256:" + "a" * 64,
]


@pytest.mark.parametrize("image", VALID_IMAGES)
def test_valid_image_names_run(backend: MemoryBackend, image: str) -> None:
    backend.create(pod("p", container("app", image)))
    assert state(get(backend))[0] == "running"


def test_failing_pulls_then_back_off_then_recover(backend: MemoryBackend) -> None:
    backend.simulator.fail_image_pulls("registry.example.com/*")
    backend.create(pod("p", container("app", "registry.example.com/app:1")))
    kind, detail = state(get(backend))
    assert (kind, detail["reason"]) == ("waiting", "ErrImagePull")
    assert detail["message"].startswith(
        'Failed to pull image "registry.example.com/app:1": rpc error'
    )
    backend.advance(1)
    detail = state(get(backend))[1]
    assert detail == {
        "reason": "ImagePullBackOff",
        "message": 'Back-off pulling image "registry.example.com/app:1"',
    }
    assert get(backend)["status"]["phase"] == "Pending"
    backend.simulator.allow_image_pulls("registry.example.com/*")
    assert state(get(backend))[0] == "running"


def test_pull_failure_messages_can_be_given(backend: MemoryBackend) -> None:
    backend.simulator.fail_image_pulls("nginx:*", "denied: not authorized")
    backend.create(pod("p"))
    assert (
        state(get(backend))[1]["message"]
        == 'Failed to pull image "nginx:1.27": denied: not authorized'
    )


def test_slow_start_keeps_containers_creating(backend: MemoryBackend) -> None:
    backend.simulator.slow_start("nginx:*", 30)
    backend.create(pod("p"))
    obj = get(backend)
    assert state(obj) == ("waiting", {"reason": "ContainerCreating"})
    assert "podIP" not in obj["status"]
    sandbox = condition(obj, "PodReadyToStartContainers")
    assert sandbox is not None and sandbox["status"] == "False"
    backend.advance(29)
    assert state(get(backend))[0] == "waiting"
    backend.advance(1)
    obj = get(backend)
    assert state(obj) == ("running", {"startedAt": "2026-01-01T12:00:30Z"})
    assert obj["status"]["startTime"] == NOW


# -- health ----------------------------------------------------------------------------------

PROBE = {"exec": {"command": ["true"]}}


def test_readiness_failures_make_the_pod_unready(backend: MemoryBackend) -> None:
    backend.create(pod("p", container("app", readinessProbe=PROBE)))
    backend.simulator.set_health(NS, "p", "app", False)
    obj = get(backend)
    assert container_status(obj)["ready"] is False
    ready = condition(obj, "Ready")
    assert ready is not None and ready["status"] == "False"
    assert ready["message"] == "containers with unready status: [app]"
    assert container_status(obj)["restartCount"] == 0
    backend.simulator.set_health(NS, "p", "app", True)
    assert container_status(get(backend))["ready"] is True


def test_liveness_failures_restart_the_container(backend: MemoryBackend) -> None:
    probe = {**PROBE, "periodSeconds": 5, "failureThreshold": 2}
    backend.create(pod("p", container("app", livenessProbe=probe)))
    backend.simulator.set_health(NS, "p", "app", False)
    status = container_status(get(backend))
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 143
    backend.advance(10)  # period * threshold after the restart: killed again
    assert container_status(get(backend))["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    backend.simulator.set_health(NS, "p", "app", True)
    backend.advance(10)
    status = container_status(get(backend))
    assert status["restartCount"] == 2 and "running" in status["state"]
    backend.advance(600)
    assert container_status(get(backend))["restartCount"] == 2


def test_health_needs_a_probe(backend: MemoryBackend) -> None:
    from kecs.backends.memory import SimulationError

    backend.create(pod("p", container("app", readinessProbe=PROBE)))
    with pytest.raises(SimulationError, match='container "app" of pod "p" has no liveness probe'):
        backend.simulator.set_health(NS, "p", "app", False, probe="liveness")
    backend.create(pod("q"))
    with pytest.raises(SimulationError, match="has no readiness or liveness probe"):
        backend.simulator.set_health(NS, "q", "app", False)
