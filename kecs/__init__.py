"""kecs: Amazon ECS's API on top of Kubernetes.

``kecs.client("ecs")`` returns a botocore ECS client that boto3 code cannot tell apart from
``boto3.client("ecs")``; every call becomes Kubernetes objects in a backend (embedded by
default, or a real cluster).
"""

from typing import TYPE_CHECKING, Any

from kecs.backends.memory import MemoryBackend
from kecs.client import client, default_backend, reset_default_backend
from kecs.errors import ECSError, KecsError, UnsupportedServiceError

if TYPE_CHECKING:
    from kecs.apiserver import serve_kubernetes_api as serve_kubernetes_api
    from kecs.backends.kubernetes import KubernetesBackend as KubernetesBackend
    from kecs.mock import mock as mock
    from kecs.render import render as render

__version__ = "0.1.0"

#: Exported on first use, so ``import kecs`` does not pay for them.
_LAZY = ("mock", "render")
#: Name -> module, for lazy exports that live deeper (the real-cluster backend imports
#: ``kubernetes``, which ``import kecs`` must never do).
_LAZY_FROM = {
    "KubernetesBackend": "kecs.backends.kubernetes",
    "serve_kubernetes_api": "kecs.apiserver",
}

__all__ = [
    "ECSError",
    "KecsError",
    "KubernetesBackend",
    "MemoryBackend",
    "UnsupportedServiceError",
    "__version__",
    "client",
    "default_backend",
    "mock",
    "render",
    "reset_default_backend",
    "serve_kubernetes_api",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_FROM:
        import importlib

        value = getattr(importlib.import_module(_LAZY_FROM[name]), name)
        globals()[name] = value
        return value
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"kecs.{name}"), name)
        # Importing the submodule bound its module object to this name; the function wins.
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kecs' has no attribute {name!r}")
