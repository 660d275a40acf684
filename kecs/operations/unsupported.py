"""ECS operations that cannot exist on Kubernetes, refused with the reason why.

Each answers ``UnsupportedFeatureException`` with a message saying what the operation is for on
AWS and what does that job on Kubernetes; ``docs/coverage.md`` lists the same reasons
(:func:`kecs.operations.registry.unsupported`).

- The container agent's own API (DiscoverPollEndpoint, Submit*StateChange(s),
  UpdateContainerAgent): on Kubernetes the kubelet receives pods from the API server and
  reports their status, from which kecs derives task and container states.
- ExecuteCommand needs an SSM Session Manager session through the ECS agent; the answer names
  the ``kubectl exec`` command for the task's pod and container instead.
- Express Gateway services and gateways provision AWS load balancers, target groups, security
  groups and scaling policies; on Kubernetes ingress belongs to the cluster's Ingress
  controller. CreateService with ``loadBalancers`` (a Deployment, a Service and an Ingress) is
  kecs's way to the same end.
"""

from __future__ import annotations

import shlex
from typing import Any

from kecs.errors import InvalidParameterException, UnsupportedFeatureException
from kecs.mapping import task_containers
from kecs.operations import task_lookup
from kecs.operations.cluster_lookup import resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation, unsupported

Params = dict[str, Any]

_AGENT = (
    "{op} is called by the ECS container agent {does}. kecs runs no ECS agent: on "
    "Kubernetes the kubelet on each Node {instead}."
)
AGENT_ONLY = {
    "DiscoverPollEndpoint": _AGENT.format(
        op="DiscoverPollEndpoint",
        does="to find the endpoint it polls for work",
        instead="watches the API server for the pods scheduled to it",
    ),
    "SubmitTaskStateChange": _AGENT.format(
        op="SubmitTaskStateChange",
        does="to report a task's state",
        instead="reports the pod's status, from which kecs derives the task's state",
    ),
    "SubmitContainerStateChange": _AGENT.format(
        op="SubmitContainerStateChange",
        does="to report a container's state",
        instead="reports the pod's containerStatuses, from which kecs derives each container's "
        "state and exit code",
    ),
    "SubmitAttachmentStateChanges": _AGENT.format(
        op="SubmitAttachmentStateChanges",
        does="to report the state of a task's network interface attachments",
        instead="sets up pod networking through the cluster's CNI plugin and reports the pod's "
        "IP, which kecs shows as the task's attachment",
    ),
    "UpdateContainerAgent": _AGENT.format(
        op="UpdateContainerAgent",
        does="to update itself on a container instance",
        instead="runs the kubelet; upgrade Nodes with the cluster's own tooling (node pools, "
        "kubeadm upgrade, ...)",
    ),
}

_EXPRESS = (
    "{op}: Express Gateway services provision AWS infrastructure (an Application Load "
    "Balancer, target groups, security groups and Application Auto Scaling policies) that has "
    "no counterpart kecs manages on Kubernetes. Register a task definition and call "
    "CreateService with loadBalancers instead: kecs maps it to a Deployment, a Service and an "
    "Ingress."
)
EXPRESS_GATEWAY = {
    op: _EXPRESS.format(op=op)
    for op in (
        "CreateExpressGatewayService",
        "DescribeExpressGatewayService",
        "UpdateExpressGatewayService",
        "DeleteExpressGatewayService",
    )
}

_GATEWAY = (
    "{op}: ECS gateways manage shared Application Load Balancers and their routes. On "
    "Kubernetes, ingress belongs to the cluster's Ingress controller (or Gateway API "
    "implementation), which kecs does not manage. Call CreateService with loadBalancers "
    "instead: kecs maps an ALB target group to an Ingress."
)
GATEWAY = {
    op: _GATEWAY.format(op=op)
    for op in (
        "CreateGateway",
        "DescribeGateway",
        "UpdateGateway",
        "DeleteGateway",
        "ListGateways",
        "AssociateGatewayWithCluster",
        "DisassociateGatewayFromCluster",
        "ListGatewayClusterAssociations",
        "DescribeGatewayResources",
        "DescribeGatewayRoute",
        "ListGatewayRoutes",
    )
}

EXECUTE_COMMAND = (
    "ExecuteCommand opens an SSM Session Manager session through the ECS agent, which has no "
    "counterpart on Kubernetes; run the command with kubectl exec on the task's pod instead."
)


@operation("ExecuteCommand")
def execute_command(ctx: RequestContext, params: Params) -> Params:
    """Refused, naming the ``kubectl exec`` command that does the same on the task's pod."""
    ref = resolve_cluster(ctx, params.get("cluster"))
    task_id = task_lookup.task_id_of(ctx, ref.name, params["task"])
    pod = task_lookup.find_pods(ctx, ref.namespace, [task_id]).get(task_id) if task_id else None
    if pod is None:
        raise InvalidParameterException(task_lookup.TASK_NOT_FOUND)
    containers = task_containers.name_map(pod)  # Kubernetes name -> ECS name
    wanted = params.get("container")
    if wanted is None and len(containers) == 1:
        wanted = next(iter(containers.values()))
    if wanted is None:
        raise InvalidParameterException(
            "The task has more than one container: specify the container to run the command in."
        )
    k8s_name = next((k for k, ecs in containers.items() if ecs == wanted), None)
    if k8s_name is None:
        raise InvalidParameterException(f"The container {wanted} was not found in the task.")
    flags = " -it" if params.get("interactive") else ""
    meta = pod["metadata"]
    command = (
        f"kubectl exec{flags} -n {meta['namespace']} {meta['name']} -c {k8s_name} -- "
        f"{_argv(params['command'])}"
    )
    raise UnsupportedFeatureException(f"{EXECUTE_COMMAND} For this task: {command}")


def _argv(command: str) -> str:
    # ECS runs the command without a shell; kubectl exec passes the words the same way.
    try:
        words = shlex.split(command)
    except ValueError:
        words = [command]
    return shlex.join(words) if words else shlex.quote(command)


unsupported("ExecuteCommand", EXECUTE_COMMAND)
for _name, _reason in {**AGENT_ONLY, **EXPRESS_GATEWAY, **GATEWAY}.items():
    unsupported(_name, _reason)
