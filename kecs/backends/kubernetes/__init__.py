"""The real-cluster backend, on the official ``kubernetes`` client.

Importing this package imports ``kubernetes``; ``import kecs`` never does
(``kecs.KubernetesBackend`` is resolved on first use).
"""

from kecs.backends.kubernetes.backend import KubernetesBackend
from kecs.backends.kubernetes.counter import Permission, RequestCounter
from kecs.backends.kubernetes.permissions import REQUIRED_PERMISSIONS
from kecs.backends.kubernetes.transport import RetryPolicy

__all__ = [
    "REQUIRED_PERMISSIONS",
    "KubernetesBackend",
    "Permission",
    "RequestCounter",
    "RetryPolicy",
]
