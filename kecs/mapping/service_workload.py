"""An ECS service -> its workload (Deployment for REPLICA, DaemonSet for DAEMON) and Service.

``spec`` is the ECS service as CreateService / UpdateService set it (wire parameters, with
``taskDefinition`` resolved to the full ARN); it is kept whole in the workload's
``kecs.dev/service-spec`` annotation, the status (ACTIVE / DRAINING) in ``kecs.dev/service-status``.

Decisions:

- Names: workload and Service share ``names.dns_label(serviceName, account, region, cluster,
  serviceName, letter_first=True)`` -- a DNS-1035 label, as a Service name must be.
- ``deploymentConfiguration`` -> rolling update: ``maxSurge = maximumPercent - 100`` %,
  ``maxUnavailable = 100 - minimumHealthyPercent`` % (defaults 200/100 for REPLICA, 100/0 for
  DAEMON; clamped to 0-100 %). Kubernetes forbids both being 0 (ECS would stall): then
  ``maxSurge`` is 1, which keeps ECS's promise never to drop below the minimum. Kubernetes
  rounds a surge percentage up where ECS rounds ``maximumPercent`` down: one extra task
  may start during a rollout.
- ``deploymentCircuitBreaker.enable`` -> ``progressDeadlineSeconds``
  :data:`CIRCUIT_BREAKER_DEADLINE` (600 s, Kubernetes' default), whose
  ``ProgressDeadlineExceeded`` reads as rolloutState FAILED.
  Without the breaker an ECS deployment never fails, so the deadline is Kubernetes' "none"
  (2147483647). ``rollback`` is honoured by the controllers, not by the manifest.
- ``healthCheckGracePeriodSeconds`` -> at least that ``initialDelaySeconds`` on every
  ``livenessProbe`` (ECS ignores failing health checks for that long, so must the kubelet);
  readiness is untouched (an unready task is not counted healthy in ECS either). Not
  ``minReadySeconds``, which would slow every rollout down.
- Pod template: the task definition's template, ``restartPolicy: Always`` (required by both
  kinds), labels and annotations as for a standalone task (group ``service:<name>``; no
  startedBy: a service task's startedBy is its ECS deployment id, derived from its
  ReplicaSet), the service label, the finalizer ``kecs.dev/task-record``, and the per-revision
  settings (launch type, capacity providers, platform version, network configuration, load
  balancers, service registries) in ``kecs.dev/service-revision``: changing them rolls out a
  new deployment, as in ECS. Identity, placement, capacity providers and the discovery and
  load balancer objects are added by :mod:`kecs.mapping.task_wiring`.
- Tags: the service's own tags in the workload's ``kecs.dev/tags``; tasks get the tags
  :func:`propagated_tags` computes (``propagateTags`` SERVICE / TASK_DEFINITION, plus
  ``aws:ecs:serviceName`` / ``aws:ecs:clusterName`` with ``enableECSManagedTags``).
- Service: ClusterIP, one port per distinct (containerPort, protocol) of the task
  definition's ``portMappings`` (ranges excluded), named ``<protocol>-<port>``; ``None`` when
  there is none.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from kecs.mapping import labels, names, task_keys
from kecs.mapping.task_pod import task_annotations, task_labels

SERVICE_RESOURCE = "service"
REPLICA = "REPLICA"
DAEMON = "DAEMON"
CIRCUIT_BREAKER_DEADLINE = 600
NO_DEADLINE = 2**31 - 1
REVISION_HISTORY_LIMIT = 10
#: Service settings that belong to one deployment (a change rolls out a new ReplicaSet).
REVISION_KEYS = (
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "networkConfiguration",
    "loadBalancers",
    "serviceRegistries",
    "serviceConnectConfiguration",
    "volumeConfigurations",
)


def workload_name(service_name: str, *, account: str, region: str, cluster_name: str) -> str:
    """The name of the Deployment / DaemonSet and the Service of one ECS service."""
    return names.dns_label(
        service_name, account, region, cluster_name, service_name, letter_first=True
    )


def scheduling_strategy(spec: Mapping[str, Any]) -> str:
    return DAEMON if spec.get("schedulingStrategy") == DAEMON else REPLICA


def deployment_configuration(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``deploymentConfiguration`` with ECS's defaults filled in, as DescribeServices shows it."""
    given = spec.get("deploymentConfiguration") or {}
    daemon = scheduling_strategy(spec) == DAEMON
    result: dict[str, Any] = copy.deepcopy(dict(given))
    breaker = dict(given.get("deploymentCircuitBreaker") or {})
    result["deploymentCircuitBreaker"] = {
        **breaker,
        "enable": bool(breaker.get("enable", False)),
        "rollback": bool(breaker.get("rollback", False)),
    }
    if result.get("maximumPercent") is None:
        result["maximumPercent"] = 100 if daemon else 200
    if result.get("minimumHealthyPercent") is None:
        result["minimumHealthyPercent"] = 0 if daemon else 100
    result.setdefault("strategy", "ROLLING")
    return result


def rolling_update(spec: Mapping[str, Any]) -> dict[str, str]:
    """``maxSurge`` / ``maxUnavailable`` from the deployment configuration."""
    config = deployment_configuration(spec)
    surge = min(max(int(config["maximumPercent"]) - 100, 0), 100)
    unavailable = min(max(100 - int(config["minimumHealthyPercent"]), 0), 100)
    if surge == 0 and unavailable == 0:
        return {"maxSurge": "1", "maxUnavailable": "0%"}
    return {"maxSurge": f"{surge}%", "maxUnavailable": f"{unavailable}%"}


def circuit_breaker_enabled(spec: Mapping[str, Any]) -> bool:
    return bool(deployment_configuration(spec)["deploymentCircuitBreaker"]["enable"])


def capacity_provider(spec: Mapping[str, Any]) -> str | None:
    """The provider new tasks are attributed to: the one with a base, else the heaviest."""
    strategy = [s for s in spec.get("capacityProviderStrategy") or [] if s.get("capacityProvider")]
    if not strategy:
        return None
    with_base = [s for s in strategy if (s.get("base") or 0) > 0]
    chosen = with_base[0] if with_base else max(strategy, key=lambda s: s.get("weight") or 0)
    return str(chosen["capacityProvider"])


def task_launch_type(provider: str | None) -> str | None:
    """The launch type ECS reports for a task placed by capacity provider ``provider``."""
    if provider is None:
        return None
    return "FARGATE" if provider in ("FARGATE", "FARGATE_SPOT") else "EC2"


def propagated_tags(
    spec: Mapping[str, Any],
    *,
    cluster_name: str,
    task_definition_tags: Sequence[Mapping[str, str]] | None = None,
) -> list[dict[str, str]]:
    """The tags the service's tasks carry."""
    source = spec.get("propagateTags")
    tags: list[dict[str, str]] = []
    if source == "SERVICE":
        tags = [dict(t) for t in spec.get("tags") or []]
    elif source == "TASK_DEFINITION":
        tags = [dict(t) for t in task_definition_tags or []]
    if spec.get("enableECSManagedTags"):
        managed = {"aws:ecs:serviceName": str(spec.get("serviceName", ""))}
        managed["aws:ecs:clusterName"] = cluster_name
        tags = [t for t in tags if t.get("key") not in managed]
        tags += [{"key": k, "value": v} for k, v in managed.items()]
    return tags


def _with_grace(spec: dict[str, Any], grace: int | None) -> None:
    if not grace:
        return
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        probe = container.get("livenessProbe")
        if isinstance(probe, dict):
            # A new dict: templates may share one probe object between liveness and readiness.
            delay = max(int(probe.get("initialDelaySeconds") or 0), grace)
            container["livenessProbe"] = {**probe, "initialDelaySeconds": delay}


def pod_template(
    template: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    cluster_name: str,
    account: str,
    region: str,
    task_definition: Mapping[str, Any],
    task_definition_tags: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """The PodTemplateSpec of the service's tasks."""
    service_name = str(spec.get("serviceName", ""))
    group = f"service:{service_name}"
    provider = capacity_provider(spec)
    launch_type = spec.get("launchType") or task_launch_type(provider)
    pod_spec = copy.deepcopy(dict(template.get("spec") or {}))
    pod_spec["restartPolicy"] = "Always"
    _with_grace(pod_spec, spec.get("healthCheckGracePeriodSeconds"))
    annotations = task_annotations(
        template,
        cluster_name=cluster_name,
        task_definition=task_definition,
        group=group,
        launch_type=launch_type,
        capacity_provider=provider,
        tags=propagated_tags(
            spec, cluster_name=cluster_name, task_definition_tags=task_definition_tags
        ),
        enable_execute_command=bool(spec.get("enableExecuteCommand")),
        network_configuration=spec.get("networkConfiguration"),
        platform_version=spec.get("platformVersion"),
    )
    annotations[task_keys.SERVICE_NAME] = service_name
    revision = {k: spec[k] for k in REVISION_KEYS if spec.get(k)}
    annotations[task_keys.SERVICE_REVISION] = task_keys.dump(revision)
    metadata = {
        "labels": task_labels(
            template,
            account=account,
            region=region,
            cluster_name=cluster_name,
            task_definition=task_definition,
            group=group,
            launch_type=launch_type,
            capacity_provider=provider,
            service_name=service_name,
        ),
        "annotations": annotations,
        "finalizers": [labels.TASK_RECORD_FINALIZER],
    }
    return {"metadata": metadata, "spec": pod_spec}


def selector(service_name: str) -> dict[str, str]:
    return {labels.SERVICE: names.label_value(service_name), labels.RESOURCE: "task"}


def service_labels(
    account: str,
    region: str,
    cluster_name: str,
    service_name: str,
    resource: str = SERVICE_RESOURCE,
) -> dict[str, str]:
    """Ownership (``resource``), cluster and service labels: what every object of one ECS
    service is found by (its workload, Service, record and task sets)."""
    object_labels = labels.ownership(account, region, resource)
    object_labels[labels.CLUSTER] = names.label_value(cluster_name)
    object_labels[labels.SERVICE] = names.label_value(service_name)
    return object_labels


def workload_metadata(
    spec: Mapping[str, Any],
    *,
    namespace: str,
    cluster_name: str,
    account: str,
    region: str,
    status: str = "ACTIVE",
) -> dict[str, Any]:
    """The metadata (name, labels, annotations) every kind of service object carries."""
    service_name = str(spec.get("serviceName", ""))
    object_labels = service_labels(account, region, cluster_name, service_name)
    if spec.get("launchType"):
        object_labels[labels.LAUNCH_TYPE] = names.label_value(str(spec["launchType"]))
    annotations = {
        task_keys.SERVICE_NAME: service_name,
        task_keys.CLUSTER_NAME: cluster_name,
        task_keys.SERVICE_SPEC: task_keys.dump(spec),
        task_keys.SERVICE_STATUS: status,
        task_keys.TAGS: task_keys.dump([dict(t) for t in spec.get("tags") or []]),
    }
    if spec.get("taskDefinition"):
        annotations[task_keys.TASK_DEFINITION_ARN] = str(spec["taskDefinition"])
    name = workload_name(service_name, account=account, region=region, cluster_name=cluster_name)
    return {
        "name": name,
        "namespace": namespace,
        "labels": object_labels,
        "annotations": annotations,
    }


def deployment_spec(
    replicas: int,
    match_labels: Mapping[str, str],
    rolling: Mapping[str, Any],
    template: Mapping[str, Any],
    *,
    deadline: int = NO_DEADLINE,
    history: int = REVISION_HISTORY_LIMIT,
) -> dict[str, Any]:
    """A Deployment's ``spec``, rolled out ``rolling``-ly (shared by REPLICA services and
    task sets, :mod:`kecs.mapping.task_sets`)."""
    return {
        "replicas": replicas,
        "selector": {"matchLabels": dict(match_labels)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": dict(rolling)},
        "progressDeadlineSeconds": deadline,
        "revisionHistoryLimit": history,
        "template": dict(template),
    }


def workload(
    template: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    namespace: str,
    cluster_name: str,
    account: str,
    region: str,
    task_definition: Mapping[str, Any],
    task_definition_tags: Sequence[Mapping[str, str]] | None = None,
    status: str = "ACTIVE",
    kind: str | None = None,
) -> dict[str, Any]:
    """The service's workload: an ``apps/v1 Deployment`` for a REPLICA service, a
    ``DaemonSet`` for a DAEMON one (``kind``, when given, overrides ``schedulingStrategy``)."""
    if kind is None:
        kind = "DaemonSet" if scheduling_strategy(spec) == DAEMON else "Deployment"
    metadata = workload_metadata(
        spec,
        namespace=namespace,
        cluster_name=cluster_name,
        account=account,
        region=region,
        status=status,
    )
    pod = pod_template(
        template,
        spec,
        cluster_name=cluster_name,
        account=account,
        region=region,
        task_definition=task_definition,
        task_definition_tags=task_definition_tags,
    )
    match_labels = selector(str(spec.get("serviceName", "")))
    if kind == "DaemonSet":
        workload_spec = daemon_set_spec(pod, match_labels, rolling_update(spec))
    else:
        deadline = CIRCUIT_BREAKER_DEADLINE if circuit_breaker_enabled(spec) else NO_DEADLINE
        replicas = int(spec.get("desiredCount") or 0)
        workload_spec = deployment_spec(
            replicas, match_labels, rolling_update(spec), pod, deadline=deadline
        )
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": metadata, "spec": workload_spec}


def deployment(
    template: Mapping[str, Any], spec: Mapping[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """The ``apps/v1 Deployment`` of a REPLICA service (:func:`workload`'s arguments)."""
    return workload(template, spec, kind="Deployment", **kwargs)


def daemon_set(
    template: Mapping[str, Any], spec: Mapping[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """The ``apps/v1 DaemonSet`` of a DAEMON service (:func:`workload`'s arguments)."""
    return workload(template, spec, kind="DaemonSet", **kwargs)


def daemon_set_spec(
    template: Mapping[str, Any], match_labels: Mapping[str, str], rolling: Mapping[str, Any]
) -> dict[str, Any]:
    """A DaemonSet's ``spec``: one pod per eligible node, rolled out ``rolling``-ly (shared by
    DAEMON services and ECS daemons, :mod:`kecs.mapping.daemons`)."""
    return {
        "selector": {"matchLabels": dict(match_labels)},
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": dict(rolling)},
        "revisionHistoryLimit": REVISION_HISTORY_LIMIT,
        "template": dict(template),
    }


def service_ports(task_definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One ServicePort per distinct (containerPort, protocol) of the portMappings."""
    ports: dict[tuple[int, str], dict[str, Any]] = {}
    for definition in task_definition.get("containerDefinitions") or []:
        for mapping in definition.get("portMappings") or []:
            port = mapping.get("containerPort")
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                continue
            protocol = "UDP" if str(mapping.get("protocol", "tcp")).lower() == "udp" else "TCP"
            if (port, protocol) in ports:
                continue
            entry: dict[str, Any] = {
                "name": f"{protocol.lower()}-{port}",
                "port": port,
                "targetPort": port,
                "protocol": protocol,
            }
            if mapping.get("appProtocol"):
                entry["appProtocol"] = str(mapping["appProtocol"]).lower()
            ports[(port, protocol)] = entry
    return [ports[key] for key in sorted(ports)]


def service(
    spec: Mapping[str, Any],
    *,
    namespace: str,
    cluster_name: str,
    account: str,
    region: str,
    task_definition: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The ClusterIP ``v1 Service`` for the service's port mappings, or ``None``."""
    ports = service_ports(task_definition)
    if not ports:
        return None
    service_name = str(spec.get("serviceName", ""))
    object_labels = service_labels(account, region, cluster_name, service_name)
    name = workload_name(service_name, account=account, region=region, cluster_name=cluster_name)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": object_labels,
            "annotations": {
                task_keys.SERVICE_NAME: service_name,
                task_keys.CLUSTER_NAME: cluster_name,
            },
        },
        "spec": {"type": "ClusterIP", "selector": selector(service_name), "ports": ports},
    }
