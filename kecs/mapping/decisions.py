# ruff: noqa: E501 -- a decision table reads best one row per line
"""The mapping decision for every member of ``ContainerDefinition`` and
``RegisterTaskDefinitionRequest`` (botocore's ECS model).

A test walks botocore's model and fails when a member has no entry here or no row in
``docs/mapping.md`` (generated from this table by ``tools/gen_mapping_doc.py``), so a new AWS
field cannot slip by unnoticed.

- MAPPED: becomes a Kubernetes field with the same meaning.
- PARTLY: becomes Kubernetes fields, with documented approximations (noted per input).
- METADATA: kept as an annotation on the pod template only; a note says it is not applied.
- REJECTED: refused by RegisterTaskDefinition with an ECS error (none today: kecs accepts
  everything AWS accepts and notes what it cannot apply).
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class Decision(enum.Enum):
    MAPPED = "mapped"
    PARTLY = "partly"
    METADATA = "metadata"
    REJECTED = "rejected"


class Rule(NamedTuple):
    decision: Decision
    description: str


M, P, D, R = Decision.MAPPED, Decision.PARTLY, Decision.METADATA, Decision.REJECTED

CONTAINER_DEFINITION: dict[str, Rule] = {
    "name": Rule(
        M,
        "container name; kept when a DNS-1123 label, else `names.dns_label` (exact name in `kecs.dev/container-names`)",
    ),
    "image": Rule(M, "`image` (surrounding whitespace removed)"),
    "repositoryCredentials": Rule(
        M,
        "the task's `imagePullSecrets`: a `kubernetes.io/dockerconfigjson` Secret named from the credentials ARN (the user creates it; the task role may read it)",
    ),
    "cpu": Rule(M, "`requests.cpu`, 1024 units = 1 CPU (256 -> `250m`); 0 = unset"),
    "memory": Rule(M, "`limits.memory` in `Mi` (hard limit)"),
    "memoryReservation": Rule(M, "`requests.memory` in `Mi` (clamped to `memory`)"),
    "links": Rule(
        P, "`hostAliases` 127.0.0.1 for the link name and alias (a pod shares localhost)"
    ),
    "portMappings": Rule(
        P,
        "`ports`: protocol, hostPort (bridge/host only; dynamic ports dropped), IANA port names, small ranges expanded; appProtocol in `kecs.dev/port-mappings`",
    ),
    "essential": Rule(D, "`kecs.dev/containers`; also decides liveness probes and dependsOn roles"),
    "restartPolicy": Rule(D, "`kecs.dev/containers`; the pod's restartPolicy applies"),
    "entryPoint": Rule(M, "`command` (Docker ENTRYPOINT), `$(` escaped"),
    "command": Rule(M, "`args` (Docker CMD), `$(` escaped"),
    "environment": Rule(M, "`env`; duplicates: last value wins"),
    "environmentFiles": Rule(D, "`kecs.dev/containers`; S3 files are not loaded"),
    "mountPoints": Rule(M, "`volumeMounts` (readOnly kept)"),
    "volumesFrom": Rule(M, "the source container's mounts, transitively (readOnly applied)"),
    "linuxParameters": Rule(
        P,
        "capabilities -> securityContext; tmpfs / sharedMemorySize -> memory emptyDirs; initProcessEnabled -> shareProcessNamespace; devices, maxSwap, swappiness noted",
    ),
    "secrets": Rule(
        M,
        "`env.valueFrom.secretKeyRef` to a Secret named from the ARN (see Secrets); values never copied; a missing Secret stops the task (ResourceInitializationError)",
    ),
    "dependsOn": Rule(
        P,
        "START/HEALTHY targets -> native sidecars (HEALTHY with startupProbe); COMPLETE/SUCCESS targets -> init containers",
    ),
    "startTimeout": Rule(D, "`kecs.dev/containers`"),
    "stopTimeout": Rule(P, "`terminationGracePeriodSeconds` (pod-wide: the largest)"),
    "versionConsistency": Rule(D, "`kecs.dev/containers`; nodes resolve image tags themselves"),
    "hostname": Rule(P, "pod `hostname` when a DNS-1123 label (first container that sets one)"),
    "user": Rule(P, "`runAsUser`/`runAsGroup` for numeric ids (and root); names noted"),
    "workingDirectory": Rule(M, "`workingDir`"),
    "disableNetworking": Rule(D, "`kecs.dev/containers`; containers share the pod network"),
    "privileged": Rule(M, "`securityContext.privileged`"),
    "readonlyRootFilesystem": Rule(M, "`securityContext.readOnlyRootFilesystem`"),
    "dnsServers": Rule(
        P, "pod `dnsConfig.nameservers` + `dnsPolicy: None` (merged over containers, max 3)"
    ),
    "dnsSearchDomains": Rule(P, "pod `dnsConfig.searches` (merged over containers)"),
    "extraHosts": Rule(M, "pod `hostAliases`, grouped by IP"),
    "dockerSecurityOptions": Rule(
        P,
        "no-new-privileges -> allowPrivilegeEscalation false; apparmor -> appArmorProfile; label -> seLinuxOptions; others noted",
    ),
    "interactive": Rule(M, "`stdin`"),
    "pseudoTerminal": Rule(M, "`tty`"),
    "dockerLabels": Rule(P, "pod annotations when the key is a legal, unreserved qualified name"),
    "ulimits": Rule(D, "`kecs.dev/containers`; set by the container runtime"),
    "logConfiguration": Rule(D, "`kecs.dev/containers`; Kubernetes collects stdout/stderr"),
    "healthCheck": Rule(
        P,
        "readiness probe; liveness for essential containers; startup probe for startPeriod / HEALTHY dependencies",
    ),
    "systemControls": Rule(P, "pod `securityContext.sysctls` (pod-wide; first value wins)"),
    "resourceRequirements": Rule(
        P,
        "GPU -> `nvidia.com/gpu`, NeuronDevice -> `aws.amazon.com/neuron` limits; InferenceAccelerator noted",
    ),
    "firelensConfiguration": Rule(D, "`kecs.dev/containers`; no log router is configured"),
    "credentialSpecs": Rule(D, "`kecs.dev/containers`; gMSA not applied"),
}

TASK_DEFINITION: dict[str, Rule] = {
    "family": Rule(M, "label `kecs.dev/family` (label value) + annotation (exact)"),
    "taskRoleArn": Rule(
        P,
        "the tasks' ServiceAccount (IRSA `eks.amazonaws.com/role-arn`), with a Role/RoleBinding that may `get` only the task's Secrets; the IAM policy is not applied",
    ),
    "executionRoleArn": Rule(
        P,
        "annotation `kecs.dev/execution-role-arn`; ECR images get an `ecr-pull` imagePullSecret named after the role",
    ),
    "networkMode": Rule(P, "host -> `hostNetwork`; bridge/awsvpc -> pod network; none noted"),
    "containerDefinitions": Rule(
        M, "containers, init containers and native sidecars (see the container table)"
    ),
    "volumes": Rule(
        P,
        "host -> hostPath, EFS -> nfs, scratch/docker -> emptyDir; FSx/S3 Files/configuredAtLaunch stand-in emptyDir, noted",
    ),
    "placementConstraints": Rule(
        P,
        "applied to each task: memberOf -> node affinity / pod (anti-)affinity (see Placement); subjects without a Kubernetes counterpart refused by RunTask/CreateService",
    ),
    "requiresCompatibilities": Rule(
        D,
        "`kecs.dev/task-metadata`; checked by RegisterTaskDefinition, and against the launch type by RunTask/CreateService",
    ),
    "cpu": Rule(P, "spread over containers without cpu (request and limit); noted when not exact"),
    "memory": Rule(P, "spread over containers without a memory limit; noted when not exact"),
    "tags": Rule(D, "kept with the task definition record (`kecs.dev/tags`), not on pods"),
    "pidMode": Rule(M, "host -> `hostPID`, task -> `shareProcessNamespace`"),
    "ipcMode": Rule(P, "host -> `hostIPC`; task is the pod default; none noted"),
    "proxyConfiguration": Rule(D, "`kecs.dev/task-metadata`; no App Mesh proxy"),
    "inferenceAccelerators": Rule(D, "`kecs.dev/task-metadata`; no Elastic Inference"),
    "ephemeralStorage": Rule(P, "`limits.ephemeral-storage`, split evenly over containers"),
    "runtimePlatform": Rule(
        M, "`nodeSelector` kubernetes.io/os, kubernetes.io/arch, node.kubernetes.io/windows-build"
    ),
    "enableFaultInjection": Rule(D, "`kecs.dev/task-metadata`; no fault injection endpoints"),
    "trustedExecutionConfiguration": Rule(
        D, "`kecs.dev/task-metadata`; isolation mode not applied"
    ),
}

del M, P, D, R
