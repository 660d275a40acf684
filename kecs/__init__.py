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
    from kecs.mock import mock as mock
    from kecs.render import render as render

__version__ = "0.1.0"

#: Exported on first use, so ``import kecs`` does not pay for them.
_LAZY = ("mock", "render")

__all__ = [
    "ECSError",
    "KecsError",
    "MemoryBackend",
    "UnsupportedServiceError",
    "__version__",
    "client",
    "default_backend",
    "mock",
    "render",
    "reset_default_backend",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"kecs.{name}"), name)
        # Importing the submodule bound its module object to this name; the function wins.
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kecs' has no attribute {name!r}")
