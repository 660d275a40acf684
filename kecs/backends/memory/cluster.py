"""The embedded cluster: every controller, wired to one API server."""

from __future__ import annotations

from collections.abc import Sequence

from kecs.backends.memory.apiserver import ApiServer
from kecs.backends.memory.controllers import Manager
from kecs.backends.memory.controllers.autoscaler import Autoscaler
from kecs.backends.memory.controllers.daemonset import DaemonSets
from kecs.backends.memory.controllers.deployment import Deployments
from kecs.backends.memory.controllers.garbage import Garbage
from kecs.backends.memory.controllers.kubelet import Kubelet
from kecs.backends.memory.controllers.nodes import NodeCache, NodeSpec
from kecs.backends.memory.controllers.replicaset import ReplicaSets
from kecs.backends.memory.controllers.runtime import Behaviour
from kecs.backends.memory.controllers.scheduler import Scheduler

#: How far the autoscaler grows a cluster.
DEFAULT_MAX_NODES = 5000


class Cluster:
    def __init__(
        self,
        server: ApiServer,
        *,
        region: str,
        node_specs: Sequence[NodeSpec],
        autoscale: bool,
        max_nodes: int = DEFAULT_MAX_NODES,
        controllers: bool = True,
    ) -> None:
        self.server = server
        self.region = region
        self.manager = Manager(server)
        self.behaviour = Behaviour()
        self.nodes = NodeCache(self.manager)
        self.garbage = Garbage(self.manager, server, self.nodes)
        if not controllers:
            return
        template = node_specs[0] if node_specs else NodeSpec()
        self.autoscaler = (
            Autoscaler(
                server,
                self.nodes,
                region,
                NodeSpec(
                    labels=template.labels,
                    taints=template.taints,
                    cpu=template.cpu,
                    memory=template.memory,
                    pods=template.pods,
                    ephemeral_storage=template.ephemeral_storage,
                    instance_type=template.instance_type,
                    arch=template.arch,
                    os=template.os,
                ),
                max_nodes,
            )
            if autoscale
            else None
        )
        self.scheduler = Scheduler(self.manager, server, self.nodes, self.autoscaler)
        self.kubelet = Kubelet(self.manager, server, self.nodes, self.behaviour)
        self.replicasets = ReplicaSets(self.manager, server)
        self.deployments = Deployments(self.manager, server, self.replicasets, self.behaviour)
        self.daemonsets = DaemonSets(self.manager, server, self.nodes)

    def settle(self) -> None:
        self.manager.settle()
