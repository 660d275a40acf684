"""Example tests: volumes and mounts, port mappings."""

from __future__ import annotations

from kecs.mapping import labels
from kecs.mapping.ports import port_name
from tests.mapping.helpers import annotation, container, has_note, mapped, notes_of, spec

VOLUMES = [
    {"name": "logs", "host": {"sourcePath": "/var/log"}},
    {"name": "scratch"},
    {"name": "Scratch_2", "host": {}},
    {
        "name": "docker",
        "dockerVolumeConfiguration": {
            "scope": "shared",
            "driver": "rexray/ebs",
            "driverOpts": {"a": "b"},
        },
    },
    {
        "name": "efs",
        "efsVolumeConfiguration": {
            "fileSystemId": "fs-12345678",
            "rootDirectory": "/data",
            "transitEncryption": "ENABLED",
        },
    },
    {
        "name": "fsx",
        "fsxWindowsFileServerVolumeConfiguration": {
            "fileSystemId": "fs-1",
            "rootDirectory": "share",
            "authorizationConfig": {"credentialsParameter": "p", "domain": "d"},
        },
    },
    {"name": "ebs", "configuredAtLaunch": True},
]


def test_volume_kinds() -> None:
    result = mapped(volumes=VOLUMES, region="eu-west-1")
    volumes = {v["name"]: v for v in result.template["spec"]["volumes"]}
    assert volumes["logs"] == {"name": "logs", "hostPath": {"path": "/var/log"}}
    assert volumes["scratch"]["emptyDir"] == {}
    renamed = annotation(result, labels.ANN_VOLUME_NAMES)
    (scratch2,) = [k for k, v in renamed.items() if v == "Scratch_2"]
    assert volumes[scratch2]["emptyDir"] == {}
    assert volumes["docker"]["emptyDir"] == {}
    assert volumes["efs"]["nfs"] == {
        "server": "fs-12345678.efs.eu-west-1.amazonaws.com",
        "path": "/data",
    }
    assert volumes["fsx"]["emptyDir"] == {} and volumes["ebs"]["emptyDir"] == {}
    notes = [str(n) for n in result.notes]
    for path in (
        "volumes[3].dockerVolumeConfiguration.scope",
        "volumes[3].dockerVolumeConfiguration.driver",
        "volumes[3].dockerVolumeConfiguration.driverOpts",
        "volumes[4].efsVolumeConfiguration",
        "volumes[5].fsxWindowsFileServerVolumeConfiguration",
        "volumes[6].configuredAtLaunch",
    ):
        assert has_note(notes, path), path


def test_efs_without_region_uses_a_noted_placeholder() -> None:
    result = mapped(volumes=[{"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}])
    assert result.template["spec"]["volumes"][0]["nfs"] == {
        "server": "fs-1.efs.region-unknown.amazonaws.com",
        "path": "/",
    }
    assert has_note(
        [str(n) for n in result.notes], "volumes[0].efsVolumeConfiguration", "region unknown"
    )


def test_mount_points_and_volumes_from() -> None:
    s = spec(
        {
            "name": "app",
            "mountPoints": [
                {"sourceVolume": "logs", "containerPath": "/logs"},
                {"sourceVolume": "scratch", "containerPath": "/tmp/x", "readOnly": True},
            ],
        },
        {"name": "reader", "volumesFrom": [{"sourceContainer": "app", "readOnly": True}]},
        {"name": "chained", "volumesFrom": [{"sourceContainer": "reader"}]},
        volumes=VOLUMES[:2],
    )
    app, reader, chained = s["containers"]
    assert app["volumeMounts"] == [
        {"name": "logs", "mountPath": "/logs"},
        {"name": "scratch", "mountPath": "/tmp/x", "readOnly": True},
    ]
    assert reader["volumeMounts"] == [
        {"name": "logs", "mountPath": "/logs", "readOnly": True},
        {"name": "scratch", "mountPath": "/tmp/x", "readOnly": True},
    ]
    assert chained["volumeMounts"] == reader["volumeMounts"]


def test_bad_mounts_are_noted() -> None:
    notes = notes_of(
        {
            "mountPoints": [
                {"sourceVolume": "ghost", "containerPath": "/a"},
                {"sourceVolume": "logs"},
                {"sourceVolume": "logs", "containerPath": "/b"},
                {"sourceVolume": "scratch", "containerPath": "/b"},
            ],
            "volumesFrom": [{"sourceContainer": "nobody"}],
        },
        volumes=VOLUMES[:2],
    )
    assert has_note(notes, "containerDefinitions[0].mountPoints[0]", "not a task volume")
    assert has_note(notes, "containerDefinitions[0].mountPoints[1]", "without containerPath")
    assert has_note(notes, "containerDefinitions[0].mountPoints[3]", "already mounted")
    assert has_note(notes, "containerDefinitions[0].volumesFrom[0]", "does not exist")


def test_tmpfs_and_shared_memory() -> None:
    s = spec(
        {
            "linuxParameters": {
                "tmpfs": [{"containerPath": "/run", "size": 64, "mountOptions": ["noexec"]}],
                "sharedMemorySize": 256,
            }
        }
    )
    mounts = s["containers"][0]["volumeMounts"]
    volumes = {v["name"]: v for v in s["volumes"]}
    assert [m["mountPath"] for m in mounts] == ["/run", "/dev/shm"]
    assert volumes[mounts[0]["name"]]["emptyDir"] == {"medium": "Memory", "sizeLimit": "64Mi"}
    assert volumes[mounts[1]["name"]]["emptyDir"] == {"medium": "Memory", "sizeLimit": "256Mi"}
    notes = notes_of(
        {
            "linuxParameters": {
                "tmpfs": [{"containerPath": "/run", "size": 64, "mountOptions": ["noexec"]}]
            }
        }
    )
    assert has_note(notes, "containerDefinitions[0].linuxParameters.tmpfs[0].mountOptions")


def test_generated_volume_names_never_clash_with_task_volumes() -> None:
    # A task volume may be named exactly like a generated one would be.
    first = spec({"name": "web", "linuxParameters": {"sharedMemorySize": 64}})
    generated = first["volumes"][0]["name"]
    s = spec(
        {"name": "web", "linuxParameters": {"sharedMemorySize": 64}}, volumes=[{"name": generated}]
    )
    assert len({v["name"] for v in s["volumes"]}) == 2


def test_protocols_and_names() -> None:
    c = container(
        {
            "portMappings": [
                {"containerPort": 80, "name": "web"},
                {"containerPort": 53, "protocol": "udp", "name": "dns-over-udp-port-name"},
            ]
        }
    )
    assert c["ports"][0] == {"containerPort": 80, "protocol": "TCP", "name": "web"}
    assert c["ports"][1]["protocol"] == "UDP"
    assert (
        c["ports"][1]["name"] == port_name("dns-over-udp-port-name")
        and len(c["ports"][1]["name"]) <= 15
    )


def test_port_names_unique_in_the_pod_and_recorded() -> None:
    result = mapped(
        {"portMappings": [{"containerPort": 80, "name": "http", "appProtocol": "http"}]},
        {"portMappings": [{"containerPort": 8080, "name": "http"}]},
        networkMode="awsvpc",
    )
    names = [c["ports"][0]["name"] for c in result.template["spec"]["containers"]]
    assert names[0] == "http" and names[1] != "http"
    meta = annotation(result, labels.ANN_PORT_MAPPINGS)
    assert meta[0] == {
        "container": "c0",
        "containerPort": 80,
        "protocol": "TCP",
        "name": "http",
        "portName": "http",
        "appProtocol": "http",
    }
    assert meta[1]["name"] == "http" and meta[1]["portName"] == names[1]


def test_host_ports_by_network_mode() -> None:
    mappings = [
        {"containerPort": 80, "hostPort": 8080},
        {"containerPort": 81, "hostPort": 0},
        {"containerPort": 82},
    ]
    bridge = container({"portMappings": mappings}, networkMode="bridge")["ports"]
    assert [p.get("hostPort") for p in bridge] == [8080, None, None]
    notes = notes_of({"portMappings": mappings}, networkMode="bridge")
    assert has_note(notes, "containerDefinitions[0].portMappings[1]", "dynamic host port")
    awsvpc = container(
        {"portMappings": [{"containerPort": 80, "hostPort": 80}]}, networkMode="awsvpc"
    )["ports"]
    assert "hostPort" not in awsvpc[0]
    host = spec({"portMappings": [{"containerPort": 80}]}, networkMode="host")
    assert host["hostNetwork"] is True and host["containers"][0]["ports"][0]["hostPort"] == 80


def test_host_port_clashes_are_dropped() -> None:
    s = spec(
        {"portMappings": [{"containerPort": 80, "hostPort": 80}]},
        {"portMappings": [{"containerPort": 81, "hostPort": 80}]},
        networkMode="bridge",
    )
    assert "hostPort" not in s["containers"][1]["ports"][0]
    host = spec(
        {"portMappings": [{"containerPort": 80}]},
        {"portMappings": [{"containerPort": 80}]},
        networkMode="host",
    )
    assert "ports" not in host["containers"][1]


def test_ranges_bad_ports_and_duplicates() -> None:
    c = container(
        {"portMappings": [{"containerPortRange": "8000-8002"}, {"containerPort": 8001}]},
        networkMode="awsvpc",
    )
    assert [p["containerPort"] for p in c["ports"]] == [8000, 8001, 8002]
    notes = notes_of(
        {
            "portMappings": [
                {"containerPortRange": "1-1000"},
                {"containerPort": 0},
                {"hostPort": 5},
                {"containerPort": 9, "protocol": "sctp"},
            ]
        },
        networkMode="awsvpc",
    )
    assert has_note(notes, "containerDefinitions[0].portMappings[0]", "more than 64")
    assert has_note(notes, "containerDefinitions[0].portMappings[1]", "outside")
    assert has_note(notes, "containerDefinitions[0].portMappings[2]", "no containerPort")
    assert has_note(notes, "containerDefinitions[0].portMappings[3]", "TCP used")


def test_port_name_shape() -> None:
    for ecs in ("8080", "---", "a--b-c-d-e", "Very Long Port Name", ""):
        name = port_name(ecs)
        assert len(name) <= 15 and "--" not in name and any(ch.isalpha() for ch in name)
