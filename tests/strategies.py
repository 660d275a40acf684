"""Hypothesis strategies for ECS inputs, written out explicitly (``st.from_type`` ignores
constraints).

- :func:`task_definitions`: *valid* ECS task definitions (wire dicts, camelCase) as AWS would
  accept them, exercising most members of ``RegisterTaskDefinitionRequest`` and
  ``ContainerDefinition``.
- :func:`botocore_shaped`: anything botocore's model accepts for a shape (types, required
  members, ``min``) but nothing more: unknown enum values, empty strings, negative numbers...
  This is the input space on which the mapping must be total.

Other engineers may append strategies at the end of this file.
"""

from __future__ import annotations

import functools
import string
from typing import Any

from hypothesis import strategies as st

NAME_CHARS = string.ascii_letters + string.digits + "_-"
LOWER_CHARS = string.ascii_lowercase + string.digits + "-"

ecs_names = st.text(NAME_CHARS, min_size=1, max_size=255)
short_ecs_names = st.one_of(
    st.text(NAME_CHARS, min_size=1, max_size=20),
    st.text(LOWER_CHARS, min_size=1, max_size=12),
    ecs_names,
)
printable = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=30)
shellish = st.one_of(
    printable,
    st.sampled_from(
        ["echo $HOME", "echo $(date)", "a$$b", "$(", "curl -f http://localhost/ || exit 1"]
    ),
)
regions = st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"])
accounts = st.from_regex(r"\d{12}", fullmatch=True)
ips = st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str))
dns_names = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)
env_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,20}", fullmatch=True)


@st.composite
def images(draw: st.DrawFn) -> str:
    repo = draw(st.sampled_from(["nginx", "busybox", "public.ecr.aws/a/b", "ghcr.io/o/r"]))
    tag = draw(st.sampled_from(["", ":latest", ":1.2", "@sha256:" + "a" * 64]))
    return repo + tag


@st.composite
def secret_refs(draw: st.DrawFn) -> str:
    region, account = draw(regions), draw(accounts)
    name = draw(st.from_regex(r"[A-Za-z0-9/_+=.@-]{1,30}", fullmatch=True))
    kind = draw(st.sampled_from(["sm", "sm-json", "ssm-arn", "ssm-name"]))
    if kind.startswith("sm"):
        arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{name.replace('/', '-')}-AbCdEf"
        if kind == "sm-json":
            key = draw(st.text(NAME_CHARS + ".#", min_size=1, max_size=12))
            stage = draw(st.sampled_from(["", "AWSCURRENT", "AWSPREVIOUS"]))
            arn += f":{key}:{stage}:"
        return arn
    if kind == "ssm-arn":
        return f"arn:aws:ssm:{region}:{account}:parameter/{name.strip('/') or 'p'}"
    return name


@st.composite
def health_checks(draw: st.DrawFn) -> dict[str, Any]:
    command = draw(
        st.one_of(
            st.tuples(st.just("CMD-SHELL"), shellish).map(list),
            st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3).map(
                lambda a: ["CMD", *a]
            ),
            st.just(["NONE"]),
        )
    )
    check: dict[str, Any] = {"command": command}
    for key, low, high in (
        ("interval", 5, 300),
        ("timeout", 2, 60),
        ("retries", 1, 10),
        ("startPeriod", 0, 300),
    ):
        if draw(st.booleans()):
            check[key] = draw(st.integers(low, high))
    return check


@st.composite
def port_mappings(draw: st.DrawFn, network_mode: str) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    if draw(st.integers(0, 9)) == 0:
        low = draw(st.integers(1, 65000))
        mapping["containerPortRange"] = f"{low}-{low + draw(st.integers(0, 100))}"
    else:
        port = draw(st.integers(1, 65535))
        mapping["containerPort"] = port
        if network_mode == "bridge" and draw(st.booleans()):
            mapping["hostPort"] = draw(st.one_of(st.just(0), st.integers(1, 65535)))
        elif network_mode in ("host", "awsvpc") and draw(st.booleans()):
            mapping["hostPort"] = port
        if draw(st.booleans()):
            mapping["name"] = draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,30}", fullmatch=True))
    if draw(st.booleans()):
        mapping["protocol"] = draw(st.sampled_from(["tcp", "udp"]))
    if draw(st.booleans()):
        mapping["appProtocol"] = draw(st.sampled_from(["http", "http2", "grpc"]))
    return mapping


@st.composite
def linux_parameters(draw: st.DrawFn) -> dict[str, Any]:
    caps = st.lists(
        st.sampled_from(["NET_ADMIN", "SYS_PTRACE", "ALL", "CHOWN", "SYS_ADMIN"]),
        max_size=3,
        unique=True,
    )
    params: dict[str, Any] = {}
    if draw(st.booleans()):
        params["capabilities"] = {"add": draw(caps), "drop": draw(caps)}
    if draw(st.booleans()):
        params["initProcessEnabled"] = draw(st.booleans())
    if draw(st.booleans()):
        params["sharedMemorySize"] = draw(st.integers(1, 4096))
    if draw(st.booleans()):
        params["tmpfs"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "containerPath": st.sampled_from(
                            ["/tmp", "/run", "/var/cache", "/dev/shm"]
                        ),
                        "size": st.integers(1, 1024),
                    },
                    optional={
                        "mountOptions": st.lists(st.sampled_from(["noexec", "rw"]), max_size=2)
                    },
                ),
                max_size=2,
            )
        )
    if draw(st.booleans()):
        params["devices"] = [
            {"hostPath": "/dev/fuse", "containerPath": "/dev/fuse", "permissions": ["read"]}
        ]
    if draw(st.booleans()):
        params["maxSwap"] = draw(st.integers(0, 4096))
        params["swappiness"] = draw(st.integers(0, 100))
    return params


@st.composite
def container_definitions(
    draw: st.DrawFn, name: str, others: list[str], volumes: list[str], network_mode: str
) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name, "image": draw(images())}
    opt = st.booleans()
    if draw(opt):
        d["cpu"] = draw(st.integers(0, 4096))
    if draw(opt):
        d["memory"] = draw(st.integers(6, 8192))
    if draw(opt):
        d["memoryReservation"] = draw(st.integers(4, d.get("memory", 8192)))
    if draw(opt):
        d["portMappings"] = draw(st.lists(port_mappings(network_mode), max_size=3))
    if draw(opt):
        d["essential"] = draw(st.booleans())
    if draw(opt):
        d["entryPoint"] = draw(st.lists(shellish, max_size=3))
    if draw(opt):
        d["command"] = draw(st.lists(shellish, max_size=3))
    if draw(opt):
        d["environment"] = draw(
            st.lists(st.fixed_dictionaries({"name": env_names, "value": shellish}), max_size=4)
        )
    if draw(opt):
        d["secrets"] = draw(
            st.lists(
                st.fixed_dictionaries({"name": env_names, "valueFrom": secret_refs()}), max_size=3
            )
        )
    if volumes and draw(opt):
        d["mountPoints"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "sourceVolume": st.sampled_from(volumes),
                        "containerPath": st.sampled_from(["/data", "/a", "/b/c", "/tmp"]),
                    },
                    optional={"readOnly": st.booleans()},
                ),
                max_size=3,
            )
        )
    if others and draw(opt):
        d["volumesFrom"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"sourceContainer": st.sampled_from(others)},
                    optional={"readOnly": st.booleans()},
                ),
                max_size=2,
            )
        )
    if others and draw(opt):
        links = [o for other in others for o in (other, f"{other}:alias")]
        d["links"] = draw(st.lists(st.sampled_from(links), max_size=2))
    if draw(opt):
        d["linuxParameters"] = draw(linux_parameters())
    if draw(opt):
        d["healthCheck"] = draw(health_checks())
    if draw(opt):
        d["startTimeout"] = draw(st.integers(2, 120))
    if draw(opt):
        d["stopTimeout"] = draw(st.integers(2, 120))
    if draw(opt):
        d["hostname"] = draw(st.one_of(dns_names, st.text(NAME_CHARS, min_size=1, max_size=70)))
    if draw(opt):
        d["user"] = draw(
            st.sampled_from(
                ["1000", "1000:1000", "root", "nginx", "nginx:www", "0:0", "99999999999"]
            )
        )
    if draw(opt):
        d["workingDirectory"] = draw(st.sampled_from(["/app", "/"]))
    for key in (
        "disableNetworking",
        "privileged",
        "readonlyRootFilesystem",
        "interactive",
        "pseudoTerminal",
    ):
        if draw(opt):
            d[key] = draw(st.booleans())
    if draw(opt):
        d["dnsServers"] = draw(st.lists(ips, max_size=4))
    if draw(opt):
        d["dnsSearchDomains"] = draw(st.lists(dns_names, max_size=3))
    if draw(opt):
        d["extraHosts"] = draw(
            st.lists(st.fixed_dictionaries({"hostname": dns_names, "ipAddress": ips}), max_size=3)
        )
    if draw(opt):
        d["dockerSecurityOptions"] = draw(
            st.lists(
                st.sampled_from(
                    [
                        "no-new-privileges",
                        "apparmor:docker-default",
                        "apparmor:my",
                        "label:type:t",
                        "label:disable",
                        "credentialspec:x",
                    ]
                ),
                max_size=2,
            )
        )
    if draw(opt):
        d["dockerLabels"] = draw(
            st.dictionaries(
                st.one_of(
                    st.from_regex(r"[a-z][a-z0-9.]{0,20}[a-z]", fullmatch=True),
                    st.sampled_from(["com.x/y", "kecs.dev/x", "bad key", "a" * 70]),
                ),
                st.text(max_size=20),
                max_size=3,
            )
        )
    if draw(opt):
        d["ulimits"] = [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}]
    if draw(opt):
        d["logConfiguration"] = {
            "logDriver": draw(st.sampled_from(["awslogs", "awsfirelens", "json-file"])),
            "options": {"awslogs-group": "g"},
            "secretOptions": [{"name": "k", "valueFrom": draw(secret_refs())}],
        }
    if draw(opt):
        d["systemControls"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "namespace": st.sampled_from(
                            [
                                "net.core.somaxconn",
                                "net.ipv4.tcp_syncookies",
                                "kernel.shmmax",
                                "kernel.msgmax",
                            ]
                        ),
                        "value": st.sampled_from(["1", "1024"]),
                    }
                ),
                max_size=2,
            )
        )
    if draw(opt):
        d["resourceRequirements"] = draw(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries(
                        {"type": st.just("GPU"), "value": st.integers(1, 8).map(str)}
                    ),
                    st.just({"type": "InferenceAccelerator", "value": "device_1"}),
                ),
                max_size=1,
            )
        )
    if draw(opt):
        d["firelensConfiguration"] = {"type": draw(st.sampled_from(["fluentd", "fluentbit"]))}
    if draw(opt):
        d["repositoryCredentials"] = {"credentialsParameter": draw(secret_refs())}
    if draw(opt):
        d["environmentFiles"] = [{"value": "arn:aws:s3:::bucket/app.env", "type": "s3"}]
    if draw(opt):
        d["restartPolicy"] = {"enabled": True, "ignoredExitCodes": [0], "restartAttemptPeriod": 60}
    if draw(opt):
        d["versionConsistency"] = draw(st.sampled_from(["enabled", "disabled"]))
    return d


@st.composite
def volumes_list(draw: st.DrawFn) -> list[dict[str, Any]]:
    volume_names = draw(st.lists(short_ecs_names, max_size=4, unique=True))
    out = []
    for name in volume_names:
        kind = draw(
            st.sampled_from(["bind", "host", "host-empty", "docker", "efs", "fsx", "launch"])
        )
        volume: dict[str, Any] = {"name": name}
        if kind == "host":
            volume["host"] = {"sourcePath": draw(st.sampled_from(["/var/log", "/data", "/"]))}
        elif kind == "host-empty":
            volume["host"] = {}
        elif kind == "docker":
            volume["dockerVolumeConfiguration"] = {
                "scope": draw(st.sampled_from(["task", "shared"])),
                "driver": draw(st.sampled_from(["local", "rexray/ebs"])),
                "driverOpts": draw(
                    st.dictionaries(st.sampled_from(["type", "o"]), st.text(max_size=5), max_size=2)
                ),
            }
        elif kind == "efs":
            volume["efsVolumeConfiguration"] = {
                "fileSystemId": "fs-" + draw(st.from_regex(r"[0-9a-f]{8}", fullmatch=True)),
                "rootDirectory": draw(st.sampled_from(["/", "/data", "x"])),
                "transitEncryption": draw(st.sampled_from(["ENABLED", "DISABLED"])),
            }
        elif kind == "fsx":
            volume["fsxWindowsFileServerVolumeConfiguration"] = {
                "fileSystemId": "fs-1",
                "rootDirectory": "share",
                "authorizationConfig": {"credentialsParameter": "arn:aws:ssm:::p", "domain": "d"},
            }
        elif kind == "launch":
            volume["configuredAtLaunch"] = True
        out.append(volume)
    return out


@st.composite
def _dependencies(draw: st.DrawFn, containers: list[dict[str, Any]]) -> None:
    """Add an acyclic, AWS-valid ``dependsOn`` graph (edges point to earlier containers)."""
    for index, container in enumerate(containers):
        deps = []
        for target in (
            draw(st.lists(st.integers(0, index - 1), max_size=2, unique=True)) if index else []
        ):
            options = ["START"]
            if "healthCheck" in containers[target] and containers[target]["healthCheck"][
                "command"
            ] != ["NONE"]:
                options.append("HEALTHY")
            if containers[target].get("essential") is False:
                options += ["COMPLETE", "SUCCESS"]
            deps.append(
                {
                    "containerName": containers[target]["name"],
                    "condition": draw(st.sampled_from(options)),
                }
            )
        if deps:
            container["dependsOn"] = deps


TASK_CPU = st.sampled_from(
    ["256", "512", "1024", "2048", "4096", "1 vCPU", "1vCPU", ".25 vcpu", "0.5 vCPU", "2 vCPU"]
)
TASK_MEMORY = st.sampled_from(
    ["512", "1024", "2048", "3072", "1GB", "2 GB", "0.5GB", "8GB", "30720"]
)


@st.composite
def task_definitions(draw: st.DrawFn, max_containers: int = 5) -> dict[str, Any]:
    """A valid ECS task definition (RegisterTaskDefinition request body)."""
    network_mode = draw(st.sampled_from(["bridge", "host", "awsvpc", "none", None]))
    volumes = draw(volumes_list())
    volume_names = [v["name"] for v in volumes]
    names = draw(st.lists(short_ecs_names, min_size=1, max_size=max_containers, unique=True))
    mode = network_mode or "bridge"
    containers = [
        draw(container_definitions(name, [n for n in names if n != name], volume_names, mode))
        for name in names
    ]
    if not any(c.get("essential", True) for c in containers):
        containers[0]["essential"] = True
    draw(_dependencies(containers))
    td: dict[str, Any] = {"family": draw(ecs_names), "containerDefinitions": containers}
    if network_mode is not None:
        td["networkMode"] = network_mode
    if volumes:
        td["volumes"] = volumes
    opt = st.booleans()
    if draw(opt):
        td["cpu"] = draw(TASK_CPU)
    if draw(opt):
        td["memory"] = draw(TASK_MEMORY)
    if draw(opt):
        td["taskRoleArn"] = f"arn:aws:iam::{draw(accounts)}:role/task"
    if draw(opt):
        td["executionRoleArn"] = f"arn:aws:iam::{draw(accounts)}:role/exec"
    if draw(opt):
        td["pidMode"] = draw(st.sampled_from(["host", "task"]))
    if draw(opt):
        td["ipcMode"] = draw(st.sampled_from(["host", "task", "none"]))
    if draw(opt):
        td["requiresCompatibilities"] = draw(
            st.lists(st.sampled_from(["EC2", "FARGATE", "EXTERNAL"]), max_size=2, unique=True)
        )
    if draw(opt):
        td["placementConstraints"] = [
            {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t2.*"}
        ]
    if draw(opt):
        td["runtimePlatform"] = {
            "cpuArchitecture": draw(st.sampled_from(["X86_64", "ARM64"])),
            "operatingSystemFamily": draw(
                st.sampled_from(["LINUX", "WINDOWS_SERVER_2019_CORE", "WINDOWS_SERVER_2022_FULL"])
            ),
        }
    if draw(opt):
        td["ephemeralStorage"] = {"sizeInGiB": draw(st.integers(21, 200))}
    if draw(opt):
        td["proxyConfiguration"] = {
            "type": "APPMESH",
            "containerName": names[0],
            "properties": [{"name": "AppPorts", "value": "8080"}],
        }
    if draw(opt):
        td["tags"] = [{"key": "team", "value": "a"}]
    if draw(opt):
        td["enableFaultInjection"] = draw(st.booleans())
    return td


# -- anything botocore's model accepts --------------------------------------------------------


@functools.cache
def _ecs_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("ecs")


#: Few distinct strings, so names and references (dependsOn, volumesFrom, sourceVolume, links)
#: collide often and cross-references get exercised.
COLLIDING_STRINGS = st.sampled_from(
    [
        "a",
        "b",
        "A_b",
        "",
        "/x",
        "/dev/shm",
        "0",
        "80",
        "CMD",
        "CMD-SHELL",
        "1 vCPU",
        "2GB",
        "a:b",
        "10.0.0.1",
    ]
)


def _for_shape(shape: Any, depth: int, small: bool = False) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    low = shape.metadata.get("min", 0)
    if kind == "structure" and getattr(shape, "is_tagged_union", False):
        return st.one_of(
            [
                st.fixed_dictionaries({name: _for_shape(s, depth + 1, small)})
                for name, s in shape.members.items()
            ]
        )
    if kind == "structure":
        required = {
            name: _for_shape(s, depth + 1, small)
            for name, s in shape.members.items()
            if name in shape.required_members
        }
        optional = {}
        if depth < 6:
            optional = {
                name: _for_shape(s, depth + 1, small)
                for name, s in shape.members.items()
                if name not in shape.required_members
            }
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        return st.lists(
            _for_shape(shape.member, depth + 1, small), min_size=low, max_size=max(low, 3)
        )
    if kind == "map":
        return st.dictionaries(
            _for_shape(shape.key, depth + 1, small),
            _for_shape(shape.value, depth + 1, small),
            max_size=3,
        )
    if kind == "string":
        free = st.text(min_size=low, max_size=max(low, 12))
        if small:
            free = COLLIDING_STRINGS.filter(lambda v: len(v) >= low)
        if shape.enum:
            return st.one_of(st.sampled_from(shape.enum), free)
        return st.one_of(
            free,
            st.sampled_from(
                [
                    "0",
                    "512",
                    "1 vCPU",
                    "a:b",
                    "arn:aws:secretsmanager:r:1:secret:n:k:s:i",
                    "/dev/shm",
                ]
            ),
        )
    if kind in ("integer", "long"):
        return st.integers(min_value=low if "min" in shape.metadata else -(2**40), max_value=2**40)
    if kind == "boolean":
        return st.booleans()
    if kind in ("double", "float"):
        return st.floats(allow_nan=False)
    if kind == "timestamp":
        return st.datetimes()
    return st.none()


def botocore_shaped(
    shape_name: str = "RegisterTaskDefinitionRequest", *, colliding: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    """Any value of an ECS shape that botocore's parameter validation accepts.

    ``colliding=True`` draws strings from a handful of values so references between members
    (container names, volume names) match often.
    """
    return _for_shape(_ecs_model().shape_for(shape_name), 0, colliding)
