"""A cluster autoscaler: a pod that no node can take gets a new node, if one would take it.

Like cluster-autoscaler or Karpenter on EKS, but instant: the new node is of the template type
(by default the same as the initial nodes), in the next zone of the rotation that the pod's
node selector, affinity and tolerations accept. Pods that no such node could run (too big,
selecting labels the template lacks, not tolerating its taints) stay ``Unschedulable``.
"""

from __future__ import annotations

from typing import Any

import attrs

from kecs.backends import kinds
from kecs.backends.memory.apiserver import ApiServer
from kecs.backends.memory.controllers.filters import resource_reasons, static_reason
from kecs.backends.memory.controllers.interpod import Context
from kecs.backends.memory.controllers.nodes import NodeCache, NodeInfo, NodeSpec, node_object

Object = dict[str, Any]


def next_node_index(server: ApiServer) -> int:
    """The smallest ``n`` such that ``kecs-node-<n>`` is free (counting from the node count)."""
    index = server.table.count(kinds.NODE) + 1
    while server.find(kinds.NODE, None, f"kecs-node-{index}") is not None:
        index += 1
    return index


class Autoscaler:
    def __init__(
        self, server: ApiServer, nodes: NodeCache, region: str, template: NodeSpec, max_nodes: int
    ) -> None:
        self.server = server
        self.nodes = nodes
        self.region = region
        self.template = template
        self.max_nodes = max_nodes

    def __call__(self, pod: Object, requests: dict[str, int], context: Context | None) -> bool:
        if len(self.nodes.infos) >= self.max_nodes:
            return False
        index = next_node_index(self.server)
        timestamp = self.server.timestamp()
        for shift in range(3):
            zone = f"{self.region}{'abc'[(index - 1 + shift) % 3]}"
            spec = attrs.evolve(self.template, name=f"kecs-node-{index}", zone=zone)
            node = node_object(spec, index, self.region, timestamp)
            info = NodeInfo(node, index)
            if static_reason(pod["spec"], info) is not None or resource_reasons(requests, info):
                continue
            if context is None or context.reason(info) is None:
                self.server.create(node)
                return True
        return False
