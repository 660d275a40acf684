"""Task ``volumes`` -> pod volumes; ``mountPoints``/``volumesFrom``/tmpfs/shm -> volume mounts.

Task volumes (first matching configuration wins; AWS allows only one):

- ``host.sourcePath`` -> ``hostPath``.
- ``efsVolumeConfiguration`` -> ``nfs`` (server ``<fileSystemId>.efs.<region>.amazonaws.com``,
  path ``rootDirectory`` or ``/``); TLS, IAM and access points are not applied (noted).
- ``dockerVolumeConfiguration`` -> ``emptyDir`` (scope ``task``: same lifetime; ``shared``,
  drivers other than ``local``, driver options and labels: noted).
- FSx for Windows, S3 Files and ``configuredAtLaunch`` volumes -> ``emptyDir`` stand-in, noted.
- no configuration, or ``host`` without ``sourcePath`` (Docker's task scratch volume) ->
  ``emptyDir``.

Volume names keep the ECS name when it is a DNS-1123 label, else ``names.dns_label``.
``volumesFrom`` copies the source container's mount points (transitively; ``readOnly: true``
makes the copies read-only). ``linuxParameters.tmpfs`` and ``sharedMemorySize`` become
memory-backed ``emptyDir`` volumes (the latter mounted at ``/dev/shm``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kecs.mapping.common import (
    NameAllocator,
    Notes,
    flag,
    integer,
    present,
    record,
    records,
    string_map,
    strings,
    text,
)
from kecs.mapping.resources import mib_quantity, plausible

#: Stands in for the region in EFS server names when the caller does not know it.
REGION_PLACEHOLDER = "region-unknown"
#: ECS allows 10 containers; a bound keeps recursion safe on any input.
MAX_VOLUMES_FROM_DEPTH = 32


class TaskVolumes:
    """The pod's volumes, and the ECS volume name -> pod volume name table."""

    def __init__(
        self,
        task_definition: Mapping[str, Any],
        allocator: NameAllocator,
        notes: Notes,
        region: str | None,
    ) -> None:
        self.allocator = allocator
        self.notes = notes
        self.region = region
        self.volumes: list[dict[str, Any]] = []
        self.by_ecs_name: dict[str, str] = {}
        for i, volume in enumerate(records(task_definition, "volumes")):
            self._add(volume, f"volumes[{i}]")

    def _add(self, volume: Mapping[str, Any], path: str) -> None:
        name = text(volume, "name")
        if name is None:
            self.notes.add(path, "volume without a name cannot be mounted; dropped")
            return
        if name in self.by_ecs_name:
            self.notes.add(path, f"duplicate volume name {name!r}; dropped")
            return
        k8s_name = self.allocator.allocate(name, "volume", name)
        self.by_ecs_name[name] = k8s_name
        source = self._source(volume, path)
        self.volumes.append({"name": k8s_name, **source})

    def _source(self, volume: Mapping[str, Any], path: str) -> dict[str, Any]:
        configs = [
            key
            for key in (
                "host",
                "efsVolumeConfiguration",
                "dockerVolumeConfiguration",
                "fsxWindowsFileServerVolumeConfiguration",
                "s3filesVolumeConfiguration",
            )
            if record(volume, key) is not None
        ]
        if len(configs) > 1:
            self.notes.add(path, f"several volume configurations {configs}; {configs[0]} used")
        if flag(volume, "configuredAtLaunch"):
            self.notes.add(
                f"{path}.configuredAtLaunch",
                "volume is configured at launch (EBS); an emptyDir stands in for it",
            )
            return {"emptyDir": {}}
        kind = configs[0] if configs else None
        config = record(volume, kind) if kind else None
        if kind == "host" and config is not None and text(config, "sourcePath"):
            return {"hostPath": {"path": text(config, "sourcePath")}}
        if kind == "efsVolumeConfiguration" and config is not None:
            return self._efs(config, f"{path}.{kind}")
        if kind == "dockerVolumeConfiguration" and config is not None:
            self._docker(config, f"{path}.{kind}")
        elif kind in ("fsxWindowsFileServerVolumeConfiguration", "s3filesVolumeConfiguration"):
            self.notes.add(f"{path}.{kind}", "not supported on Kubernetes; an emptyDir stands in")
        return {"emptyDir": {}}

    def _efs(self, config: Mapping[str, Any], path: str) -> dict[str, Any]:
        fs_id = text(config, "fileSystemId") or ""
        region = self.region or REGION_PLACEHOLDER
        if self.region is None:
            self.notes.add(
                path, f"region unknown to the mapping; NFS server uses {REGION_PLACEHOLDER!r}"
            )
        if text(config, "transitEncryption") == "ENABLED" or present(
            config, "transitEncryptionPort"
        ):
            self.notes.add(path, "transit encryption (TLS) is not applied by an NFS volume")
        if present(config, "authorizationConfig"):
            self.notes.add(path, "EFS access point / IAM authorization is not applied by NFS")
        root = text(config, "rootDirectory") or "/"
        if not root.startswith("/"):
            root = "/" + root
        return {"nfs": {"server": f"{fs_id}.efs.{region}.amazonaws.com", "path": root}}

    def _docker(self, config: Mapping[str, Any], path: str) -> None:
        scope = text(config, "scope") or "task"
        if scope != "task":
            self.notes.add(
                f"{path}.scope",
                f"scope {scope!r}: data is not shared between tasks; an emptyDir is used",
            )
        driver = text(config, "driver")
        if driver not in (None, "local"):
            self.notes.add(
                f"{path}.driver", f"volume driver {driver!r} not available; emptyDir used"
            )
        for key in ("driverOpts", "labels"):
            if string_map(config, key):
                self.notes.add(f"{path}.{key}", "Docker volume options are not applied")

    def extra(self, wanted: str, *identity: str, medium_memory: bool, size_mib: int | None) -> str:
        """Add a generated ``emptyDir`` volume (tmpfs, /dev/shm) and return its name."""
        name = self.allocator.allocate(wanted, *identity)
        empty_dir: dict[str, Any] = {"medium": "Memory"} if medium_memory else {}
        if size_mib is not None:
            empty_dir["sizeLimit"] = mib_quantity(size_mib)
        self.volumes.append({"name": name, "emptyDir": empty_dir})
        return name


class Mounts:
    """Volume mounts per container, with ``volumesFrom`` resolved."""

    def __init__(self, definitions: list[Mapping[str, Any]], volumes: TaskVolumes) -> None:
        self.volumes = volumes
        self.notes = volumes.notes
        self._by_name: dict[str, int] = {}
        for index, definition in enumerate(definitions):
            self._by_name.setdefault(text(definition, "name") or "", index)
        self._definitions = definitions
        self._memo: dict[int, list[tuple[str, str, bool, str]]] = {}

    def _points(self, index: int, trail: tuple[int, ...]) -> list[tuple[str, str, bool, str]]:
        """(sourceVolume, containerPath, readOnly, path) for a container, volumesFrom included."""
        if index in self._memo:
            return self._memo[index]
        definition = self._definitions[index]
        path = f"containerDefinitions[{index}]"
        points = [
            (
                text(p, "sourceVolume") or "",
                text(p, "containerPath") or "",
                bool(flag(p, "readOnly")),
                f"{path}.mountPoints[{i}]",
            )
            for i, p in enumerate(records(definition, "mountPoints"))
        ]
        for i, source in enumerate(records(definition, "volumesFrom")):
            where = f"{path}.volumesFrom[{i}]"
            name = text(source, "sourceContainer") or ""
            target = self._by_name.get(name)
            if target is None:
                self.notes.add(where, f"source container {name!r} does not exist; ignored")
                continue
            if target == index or target in trail:
                self.notes.add(where, f"volumesFrom {name!r} forms a cycle; ignored")
                continue
            if len(trail) >= MAX_VOLUMES_FROM_DEPTH:
                self.notes.add(
                    where, f"volumesFrom chain deeper than {MAX_VOLUMES_FROM_DEPTH}; cut"
                )
                continue
            read_only = bool(flag(source, "readOnly"))
            for volume, container_path, ro, _ in self._points(target, (*trail, index)):
                points.append((volume, container_path, ro or read_only, where))
        self._memo[index] = points
        return points

    def container_mounts(self, index: int) -> list[dict[str, Any]]:
        definition = self._definitions[index]
        if (
            not definition.get("mountPoints")
            and not definition.get("volumesFrom")
            and "linuxParameters" not in definition
        ):
            return []  # nothing to mount, nothing to note (the common container)
        mounts: list[dict[str, Any]] = []
        paths: set[str] = set()
        for volume, container_path, read_only, where in self._points(index, ()):
            k8s_volume = self.volumes.by_ecs_name.get(volume)
            if k8s_volume is None:
                self.notes.add(where, f"sourceVolume {volume!r} is not a task volume; not mounted")
                continue
            if not container_path:
                self.notes.add(where, "mount point without containerPath; not mounted")
                continue
            if container_path in paths:
                self.notes.add(where, f"{container_path!r} is already mounted; not mounted twice")
                continue
            paths.add(container_path)
            mount: dict[str, Any] = {"name": k8s_volume, "mountPath": container_path}
            if read_only:
                mount["readOnly"] = True
            mounts.append(mount)
        self._linux_mounts(index, mounts, paths)
        return mounts

    def _linux_mounts(self, index: int, mounts: list[dict[str, Any]], paths: set[str]) -> None:
        definition = self._definitions[index]
        linux = record(definition, "linuxParameters") or {}
        path = f"containerDefinitions[{index}].linuxParameters"
        ecs_name = text(definition, "name") or ""
        for i, tmpfs in enumerate(records(linux, "tmpfs")):
            where = f"{path}.tmpfs[{i}]"
            container_path = text(tmpfs, "containerPath") or ""
            if not container_path or container_path in paths:
                self.notes.add(
                    where, f"tmpfs path {container_path!r} empty or already mounted; skipped"
                )
                continue
            size = integer(tmpfs, "size")
            if not plausible(size):
                self.notes.add(where, f"tmpfs size {size} is not a positive MiB amount; unbounded")
                size = None
            if strings(tmpfs, "mountOptions"):
                self.notes.add(f"{where}.mountOptions", "tmpfs mount options are not applied")
            name = self.volumes.extra(
                f"tmpfs-{ecs_name}-{i}",
                "tmpfs",
                ecs_name,
                str(index),
                str(i),
                medium_memory=True,
                size_mib=size,
            )
            paths.add(container_path)
            mounts.append({"name": name, "mountPath": container_path})
        shm = integer(linux, "sharedMemorySize")
        if shm is not None:
            where = f"{path}.sharedMemorySize"
            if not plausible(shm):
                self.notes.add(where, f"{shm} is not a positive MiB amount; ignored")
            elif "/dev/shm" in paths:
                self.notes.add(where, "/dev/shm is already mounted; ignored")
            else:
                name = self.volumes.extra(
                    f"shm-{ecs_name}", "shm", ecs_name, str(index), medium_memory=True, size_mib=shm
                )
                paths.add("/dev/shm")
                mounts.append({"name": name, "mountPath": "/dev/shm"})
