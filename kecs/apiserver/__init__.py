"""The embedded cluster served over HTTP as a subset of the Kubernetes REST API.

``kecs.serve_kubernetes_api(backend)`` starts it on loopback; ``kubectl`` and
:class:`kecs.KubernetesBackend` talk to it as to a real API server (see docs/real-cluster.md).
"""

from kecs.apiserver.faults import FaultInjector
from kecs.apiserver.server import KubernetesApiServer, kubeconfig, serve_kubernetes_api

__all__ = ["FaultInjector", "KubernetesApiServer", "kubeconfig", "serve_kubernetes_api"]
