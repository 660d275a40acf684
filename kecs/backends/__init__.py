"""Backends: where kecs keeps and reads Kubernetes objects."""

from kecs.backends.base import Backend, Object, ObjectList, Selector, Where
from kecs.backends.errors import (
    AlreadyExists,
    BackendError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unavailable,
)
from kecs.backends.kinds import ResourceKind

__all__ = [
    "AlreadyExists",
    "Backend",
    "BackendError",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Object",
    "ObjectList",
    "ResourceKind",
    "Selector",
    "Unavailable",
    "Where",
]
