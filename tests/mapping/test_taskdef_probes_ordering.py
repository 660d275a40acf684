"""Example tests: health checks -> probes, dependsOn -> init containers and sidecars."""

from __future__ import annotations

from typing import Any

from kecs.mapping import labels
from tests.mapping.helpers import annotation, container, has_note, mapped, notes_of, spec

CHECK = {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]}


def test_cmd_shell_runs_under_sh_with_ecs_defaults() -> None:
    c = container({"healthCheck": CHECK})
    probe = {
        "exec": {"command": ["/bin/sh", "-c", "curl -f http://localhost/ || exit 1"]},
        "periodSeconds": 30,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
        "successThreshold": 1,
    }
    assert c["readinessProbe"] == probe and c["livenessProbe"] == probe
    assert "startupProbe" not in c


def test_cmd_execs_and_timing_is_mapped() -> None:
    c = container(
        {
            "healthCheck": {
                "command": ["CMD", "check", "--fast"],
                "interval": 10,
                "timeout": 2,
                "retries": 5,
                "startPeriod": 45,
            }
        }
    )
    assert c["readinessProbe"]["exec"]["command"] == ["check", "--fast"]
    assert (
        c["readinessProbe"]["periodSeconds"],
        c["readinessProbe"]["timeoutSeconds"],
        c["readinessProbe"]["failureThreshold"],
    ) == (10, 2, 5)
    # 45 s of grace at 10 s intervals, then the usual 5 retries.
    assert c["startupProbe"]["failureThreshold"] == 5 + 5
    assert c["startupProbe"]["periodSeconds"] == 10


def test_windows_shell() -> None:
    c = container(
        {"healthCheck": CHECK},
        runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"},
    )
    assert c["readinessProbe"]["exec"]["command"][:3] == ["cmd", "/S", "/C"]


def test_none_and_odd_commands() -> None:
    assert "readinessProbe" not in container({"healthCheck": {"command": ["NONE"]}})
    assert "readinessProbe" not in container({"healthCheck": {"command": []}})
    assert "readinessProbe" not in container({"healthCheck": {"command": ["CMD-SHELL"]}})
    c = container({"healthCheck": {"command": ["curl", "x"]}})
    assert c["readinessProbe"]["exec"]["command"] == ["curl", "x"]
    assert has_note(
        notes_of({"healthCheck": {"command": ["curl", "x"]}}),
        "containerDefinitions[0].healthCheck.command",
        "CMD",
    )


def test_out_of_range_timing_is_clamped() -> None:
    c = container({"healthCheck": {**CHECK, "interval": 0, "retries": -3}})
    assert (
        c["readinessProbe"]["periodSeconds"] == 1 and c["readinessProbe"]["failureThreshold"] == 1
    )
    assert has_note(
        notes_of({"healthCheck": {**CHECK, "interval": 0}}),
        "containerDefinitions[0].healthCheck.interval",
    )


def test_non_essential_containers_get_no_liveness_probe() -> None:
    c = container({"healthCheck": CHECK, "essential": False})
    assert "readinessProbe" in c and "livenessProbe" not in c


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in items}


def test_complete_and_success_targets_become_init_containers() -> None:
    s = spec(
        {"name": "app", "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"}]},
        {"name": "migrate", "essential": False},
    )
    assert [c["name"] for c in s["initContainers"]] == ["migrate"]
    assert "restartPolicy" not in s["initContainers"][0]
    assert [c["name"] for c in s["containers"]] == ["app"]


def test_start_and_healthy_targets_become_native_sidecars() -> None:
    result = mapped(
        {
            "name": "app",
            "dependsOn": [
                {"containerName": "envoy", "condition": "HEALTHY"},
                {"containerName": "log", "condition": "START"},
            ],
        },
        {"name": "envoy", "healthCheck": {**CHECK, "startPeriod": 10}},
        {"name": "log", "healthCheck": {**CHECK, "startPeriod": 20}},
    )
    s = result.template["spec"]
    init = _by_name(s["initContainers"])
    assert init["envoy"]["restartPolicy"] == "Always" == init["log"]["restartPolicy"]
    assert init["envoy"]["startupProbe"]["failureThreshold"] == 1 + 3
    assert "startupProbe" not in init["log"]
    assert init["log"]["readinessProbe"]["initialDelaySeconds"] == 20
    roles = {v["name"]: v["role"] for v in annotation(result, labels.ANN_CONTAINERS).values()}
    assert roles == {"app": "container", "envoy": "sidecar", "log": "sidecar"}
    assert has_note([str(n) for n in result.notes], "dependsOn", "waits for all of them")


def test_healthy_target_without_start_period_is_gated_by_its_check() -> None:
    s = spec(
        {"name": "app", "dependsOn": [{"containerName": "db", "condition": "HEALTHY"}]},
        {"name": "db", "healthCheck": CHECK},
    )
    assert s["initContainers"][0]["startupProbe"]["exec"]["command"][0] == "/bin/sh"


def test_init_containers_are_ordered_by_their_dependencies() -> None:
    s = spec(
        {"name": "app", "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"}]},
        {
            "name": "migrate",
            "essential": False,
            "dependsOn": [{"containerName": "db", "condition": "HEALTHY"}],
        },
        {"name": "db", "healthCheck": CHECK},
    )
    assert [c["name"] for c in s["initContainers"]] == ["db", "migrate"]


def test_init_container_health_checks_are_dropped_with_a_note() -> None:
    args = (
        {"name": "app", "dependsOn": [{"containerName": "job", "condition": "COMPLETE"}]},
        {"name": "job", "essential": False, "healthCheck": CHECK},
    )
    init = spec(*args)["initContainers"][0]
    assert "readinessProbe" not in init
    notes = notes_of(*args)
    assert has_note(notes, "containerDefinitions[1].healthCheck", "init container")
    assert has_note(notes, "containerDefinitions[0].dependsOn[0]", "COMPLETE approximated")


def test_bad_dependencies_are_noted() -> None:
    notes = notes_of(
        {
            "name": "a",
            "dependsOn": [
                {"containerName": "ghost", "condition": "START"},
                {"containerName": "a", "condition": "START"},
            ],
        },
        {"name": "b", "dependsOn": [{"containerName": "c", "condition": "SOMETIMES"}]},
        {"name": "c"},
    )
    assert has_note(notes, "containerDefinitions[0].dependsOn[0]", "not another container")
    assert has_note(notes, "containerDefinitions[0].dependsOn[1]", "not another container")
    assert has_note(notes, "containerDefinitions[1].dependsOn[0]", "treated as START")


def test_cycles_are_broken_and_one_regular_container_remains() -> None:
    s = spec(
        {"name": "a", "dependsOn": [{"containerName": "b", "condition": "START"}]},
        {"name": "b", "dependsOn": [{"containerName": "a", "condition": "START"}]},
    )
    assert len(s["containers"]) == 1 and len(s["initContainers"]) == 1


def test_without_depends_on_every_container_is_regular_and_nothing_is_noted() -> None:
    """The shortcut for tasks without dependsOn gives what the full plan gives: an empty
    ``dependsOn`` list (the full plan's path) and no member at all plan alike."""
    from kecs.mapping import ordering
    from kecs.mapping.common import Notes

    bare: list[dict[str, Any]] = [{"name": "a"}, {"name": "b", "essential": False}]
    empty: list[dict[str, Any]] = [{**d, "dependsOn": []} for d in bare]
    for definitions in (bare, empty):
        notes = Notes()
        order = ordering.plan(list(definitions), notes)
        assert order.roles == ("container", "container")
        assert order.init_order == () and order.healthy_gates == frozenset()
        assert notes.freeze() == ()
    assert ordering.plan(list(bare), Notes()) == ordering.plan(list(empty), Notes())
