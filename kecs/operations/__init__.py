"""ECS operations: one module per resource family, no Kubernetes client imports."""

from kecs.operations.context import RequestContext
from kecs.operations.registry import handler_for, handlers, operation

__all__ = ["RequestContext", "handler_for", "handlers", "operation"]
