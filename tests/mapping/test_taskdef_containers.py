"""Example tests: container-level rules (names, command, env, secrets, security)."""

from __future__ import annotations

from kecs.mapping import labels
from kecs.mapping.taskdef import Note, to_pod_template
from tests.mapping.helpers import annotation, container, has_note, mapped, notes_of, spec


def test_minimal_interface() -> None:
    result = to_pod_template(
        {"family": "f", "containerDefinitions": [{"name": "web", "image": "nginx"}]}
    )
    assert result.template["spec"]["containers"] == [{"name": "web", "image": "nginx"}]
    assert result.template["spec"]["restartPolicy"] == "Always"
    assert result.template["metadata"]["labels"] == {labels.FAMILY: "f"}
    assert str(Note("a.b", "why")) == "a.b: why"


def test_read_only_members_are_ignored() -> None:
    described = {
        "family": "f",
        "containerDefinitions": [{"name": "web", "image": "nginx"}],
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/f:3",
        "revision": 3,
        "status": "ACTIVE",
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
        "compatibilities": ["EC2"],
        "registeredBy": "me",
    }
    plain = to_pod_template(
        {"family": "f", "containerDefinitions": [{"name": "web", "image": "nginx"}]}
    )
    assert to_pod_template(described) == plain


def test_illegal_container_names_are_hashed_and_recorded() -> None:
    result = mapped({"name": "log_router"}, {"name": "Web"}, {"name": "web"})
    names = [c["name"] for c in result.template["spec"]["containers"]]
    assert names[0].startswith("log-router-") and names[1].startswith("web-") and names[2] == "web"
    assert annotation(result, labels.ANN_CONTAINER_NAMES) == dict(
        zip(names, ["log_router", "Web", "web"], strict=True)
    )
    assert has_note([str(n) for n in result.notes], "containerDefinitions[0].name", "DNS-1123")


def test_duplicate_and_missing_container_names_stay_distinct() -> None:
    result = to_pod_template(
        {"family": "f", "containerDefinitions": [{"name": "a"}, {"name": "a"}, {}, {}]}
    )
    names = [c["name"] for c in result.template["spec"]["containers"]]
    assert len(set(names)) == 4 and names[0] == "a"
    assert any("duplicate container name" in n.message for n in result.notes)


def test_entry_point_is_command_and_command_is_args() -> None:
    c = container({"entryPoint": ["/bin/sh", "-c"], "command": ["echo hi"]})
    assert c["command"] == ["/bin/sh", "-c"]
    assert c["args"] == ["echo hi"]


def test_kubernetes_expansion_is_escaped() -> None:
    c = container(
        {
            "command": ["echo $(date)", "echo $HOME", "a$$b"],
            "environment": [{"name": "A", "value": "$(B)"}, {"name": "C", "value": "$D"}],
        }
    )
    assert c["args"] == ["echo $$(date)", "echo $HOME", "a$$$$b"]
    assert c["env"] == [{"name": "A", "value": "$$(B)"}, {"name": "C", "value": "$D"}]


def test_environment_last_duplicate_wins_in_first_position() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "A", "value": "3"}]
    result = mapped({"environment": env})
    assert result.template["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "3"},
        {"name": "B", "value": "2"},
    ]
    assert has_note(
        [str(n) for n in result.notes], "containerDefinitions[0].environment[2]", "last value wins"
    )


def test_illegal_environment_names_are_dropped_with_a_note() -> None:
    notes = notes_of(
        {
            "environment": [
                {"name": "A=B", "value": "x"},
                {"value": "y"},
                {"name": "spring.profile", "value": "z"},
            ]
        }
    )
    assert has_note(notes, "containerDefinitions[0].environment[0]", "not a legal")
    assert has_note(notes, "containerDefinitions[0].environment[1]", "not a legal")
    assert container({"environment": [{"name": "spring.profile", "value": "z"}]})["env"] == [
        {"name": "spring.profile", "value": "z"}
    ]


def test_secrets_become_secret_key_refs_without_values() -> None:
    sm = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    sm_key = sm + ":password::"
    ssm = "arn:aws:ssm:us-east-1:123456789012:parameter/app/token"
    result = mapped(
        {
            "secrets": [
                {"name": "DB", "valueFrom": sm},
                {"name": "DB_PASSWORD", "valueFrom": sm_key},
                {"name": "TOKEN", "valueFrom": ssm},
                {"name": "PLAIN", "valueFrom": "token"},
            ],
            "environment": [{"name": "TOKEN", "value": "overridden"}],
        }
    )
    env = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in result.template["spec"]["containers"][0]["env"]
    }
    assert env["DB"]["name"] == env["DB_PASSWORD"]["name"]
    assert env["DB"]["name"].startswith("db-abcdef-")
    assert env["DB"]["key"] == "value"
    assert env["DB_PASSWORD"]["key"].startswith("password-")
    assert env["TOKEN"]["name"].startswith("token-") and env["TOKEN"]["key"] == "value"
    assert env["PLAIN"]["name"] != env["TOKEN"]["name"]
    table = annotation(result, labels.ANN_SECRETS)
    assert table[env["DB"]["name"]] == {
        "source": sm,
        "kind": "secretsmanager",
        "keys": {"value": sm, env["DB_PASSWORD"]["key"]: sm_key},
    }
    assert has_note(
        [str(n) for n in result.notes], "containerDefinitions[0].secrets[2]", "overrides"
    )


def test_security_context() -> None:
    c = container(
        {
            "privileged": False,
            "readonlyRootFilesystem": True,
            "user": "1000:2000",
            "linuxParameters": {"capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}},
            "dockerSecurityOptions": [
                "no-new-privileges",
                "apparmor:my-profile",
                "label:level:s0:c1",
            ],
        }
    )
    assert c["securityContext"] == {
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsUser": 1000,
        "runAsGroup": 2000,
        "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
        "allowPrivilegeEscalation": False,
        "appArmorProfile": {"type": "Localhost", "localhostProfile": "my-profile"},
        "seLinuxOptions": {"level": "s0:c1"},
    }


def test_user_names_are_noted_root_is_zero() -> None:
    assert container({"user": "root"})["securityContext"] == {"runAsUser": 0}
    notes = notes_of({"user": "nginx:www"})
    assert has_note(notes, "containerDefinitions[0].user", "not numeric")


def test_no_new_privileges_is_skipped_for_privileged() -> None:
    c = container({"privileged": True, "dockerSecurityOptions": ["no-new-privileges"]})
    assert "allowPrivilegeEscalation" not in c["securityContext"]


def test_simple_container_fields() -> None:
    c = container(
        {
            "workingDirectory": "/app",
            "interactive": True,
            "pseudoTerminal": True,
            "image": " nginx ",
        }
    )
    assert (c["workingDir"], c["stdin"], c["tty"], c["image"]) == ("/app", True, True, "nginx")


def test_missing_image_is_noted() -> None:
    result = to_pod_template({"family": "f", "containerDefinitions": [{"name": "a"}]})
    assert "image" not in result.template["spec"]["containers"][0]
    assert has_note([str(n) for n in result.notes], "containerDefinitions[0].image", "no image")


def test_metadata_only_members_are_noted_and_kept() -> None:
    c = {
        "ulimits": [{"name": "nofile", "softLimit": 1, "hardLimit": 2}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
        "firelensConfiguration": {"type": "fluentbit"},
        "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:r:1:secret:x"},
        "environmentFiles": [{"value": "arn:aws:s3:::b/f.env", "type": "s3"}],
        "startTimeout": 30,
        "essential": False,
        "restartPolicy": {"enabled": True},
        "disableNetworking": True,
        "credentialSpecs": ["credentialspec:x"],
        "versionConsistency": "disabled",
        "linuxParameters": {"devices": [{"hostPath": "/dev/fuse"}], "maxSwap": 1, "swappiness": 1},
    }
    result = mapped(c, {"name": "main"})
    notes = [str(n) for n in result.notes]
    for member in (
        "ulimits",
        "logConfiguration",
        "firelensConfiguration",
        "repositoryCredentials",
        "environmentFiles",
        "startTimeout",
        "essential",
        "restartPolicy",
        "disableNetworking",
        "credentialSpecs",
        "versionConsistency",
        "linuxParameters.devices",
        "linuxParameters.maxSwap",
        "linuxParameters.swappiness",
    ):
        assert has_note(notes, f"containerDefinitions[0].{member}"), member
    kept = annotation(result, labels.ANN_CONTAINERS)["c0"]
    assert (
        kept["essential"] is False
        and kept["ulimits"] == c["ulimits"]
        and kept["devices"] == [{"hostPath": "/dev/fuse"}]
    )
    assert kept["logConfiguration"] == c["logConfiguration"]


def test_docker_labels_become_annotations_when_legal() -> None:
    result = mapped(
        {
            "dockerLabels": {
                "com.datadoghq.ad.check_names": '["nginx"]',
                "bad key": "x",
                "kecs.dev/x": "y",
                "a": "1",
            }
        },
        {"dockerLabels": {"a": "2", "b": "3"}},
    )
    annotations = result.template["metadata"]["annotations"]
    assert annotations["com.datadoghq.ad.check_names"] == '["nginx"]'
    assert annotations["a"] == "1" and annotations["b"] == "3"
    assert "bad key" not in annotations and "kecs.dev/x" not in annotations
    notes = [str(n) for n in result.notes]
    assert has_note(notes, "containerDefinitions[0].dockerLabels", "reserved")
    assert has_note(notes, "containerDefinitions[1].dockerLabels", "first value wins")


def test_family_label_is_a_legal_value_and_exact_in_annotation() -> None:
    family = "My_Family-" + "x" * 100
    result = mapped(family=family)
    assert result.template["metadata"]["annotations"][labels.ANN_FAMILY] == family
    assert len(result.template["metadata"]["labels"][labels.FAMILY]) <= 63


def test_roles_are_annotations_with_notes() -> None:
    result = mapped(taskRoleArn="arn:aws:iam::1:role/t", executionRoleArn="arn:aws:iam::1:role/e")
    annotations = result.template["metadata"]["annotations"]
    assert annotations[labels.ANN_TASK_ROLE_ARN] == "arn:aws:iam::1:role/t"
    assert annotations[labels.ANN_EXECUTION_ROLE_ARN] == "arn:aws:iam::1:role/e"
    notes = [str(n) for n in result.notes]
    assert has_note(notes, "taskRoleArn") and has_note(notes, "executionRoleArn")
    assert "taskRoleArn" not in str(spec(taskRoleArn=""))


def test_huge_annotations_are_trimmed_to_fit() -> None:
    big = {
        "name": "c",
        "image": "x",
        "ulimits": [{"name": "nofile", "softLimit": i, "hardLimit": i} for i in range(8000)],
    }
    result = to_pod_template({"family": "f", "containerDefinitions": [big]})
    assert labels.ANN_CONTAINERS not in result.template["metadata"]["annotations"]
    assert any(n.path == "metadata" for n in result.notes)


def test_odd_capabilities_and_apparmor_profiles_are_noted() -> None:
    params = {
        "linuxParameters": {"capabilities": {"add": ["NET_ADMIN", "", "CAP SYS"]}},
        "dockerSecurityOptions": ["apparmor: x"],
    }
    c = container(params)
    assert c["securityContext"] == {"capabilities": {"add": ["NET_ADMIN"]}}
    notes = notes_of(params)
    assert has_note(notes, "containerDefinitions[0].linuxParameters.capabilities.add[1]")
    assert has_note(notes, "containerDefinitions[0].dockerSecurityOptions[0]")


def test_linux_security_on_windows_is_noted() -> None:
    notes = notes_of(
        {"privileged": True}, runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}
    )
    assert has_note(notes, "runtimePlatform", "Windows")
