"""kecs: Amazon ECS's API on top of Kubernetes.

``kecs.client("ecs")`` returns a botocore ECS client that boto3 code cannot tell apart from
``boto3.client("ecs")``; every call becomes Kubernetes objects in a backend (embedded by
default, or a real cluster).
"""

from kecs.backends.memory import MemoryBackend
from kecs.client import client, default_backend, reset_default_backend
from kecs.errors import ECSError, KecsError, UnsupportedServiceError

__version__ = "0.1.0"

__all__ = [
    "ECSError",
    "KecsError",
    "MemoryBackend",
    "UnsupportedServiceError",
    "__version__",
    "client",
    "default_backend",
    "reset_default_backend",
]
