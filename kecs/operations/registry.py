"""Which function answers which ECS operation.

Handler modules register themselves with :func:`operation`; they are imported on the first
dispatch, so ``import kecs`` stays cheap. An operation of botocore's model that no module
registers answers ``UnsupportedFeatureException`` naming it; an operation that cannot exist on
Kubernetes is registered with :func:`unsupported`, so its answer (and ``docs/coverage.md``)
says why.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from kecs.errors import UnsupportedFeatureException
from kecs.operations.context import RequestContext

Params = dict[str, Any]
Handler = Callable[[RequestContext, Params], Params]

#: Modules that define handlers, imported on first use.
HANDLER_MODULES = (
    "kecs.operations.clusters",
    "kecs.operations.task_definitions",
    "kecs.operations.tags",
    "kecs.operations.services",
    "kecs.operations.service_listing",
    "kecs.operations.service_deployments",
    "kecs.operations.tasks",
    "kecs.operations.task_protection",
    "kecs.operations.capacity_providers",
    "kecs.operations.container_instances",
    "kecs.operations.attributes",
    "kecs.operations.account_settings",
    "kecs.operations.unsupported",
    "kecs.operations.task_sets",
    "kecs.operations.daemon_task_definitions",
    "kecs.operations.daemons",
    "kecs.operations.daemon_deployments",
)

_handlers: dict[str, Handler] = {}
#: Operation -> why it cannot exist on Kubernetes (see :func:`unsupported`).
_unsupported: dict[str, str] = {}
_loaded = False
_load_lock = threading.Lock()


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of the ECS operation ``name``."""

    def register(func: Handler) -> Handler:
        if name in _handlers and _handlers[name] is not func:
            raise RuntimeError(f"two handlers for {name}")
        _handlers[name] = func
        return func

    return register


def unsupported(name: str, reason: str) -> None:
    """Register ``name`` as an operation with no Kubernetes counterpart, refused with ``reason``.

    An operation whose refusal depends on the request (ExecuteCommand names the pod) registers
    its own handler with :func:`operation` first; this then only records the reason, for the
    coverage table.
    """
    _unsupported[name] = reason
    if name not in _handlers:

        def refuse(ctx: RequestContext, params: Params) -> Params:
            raise UnsupportedFeatureException(reason)

        operation(name)(refuse)


def unsupported_reasons() -> dict[str, str]:
    """Operation -> why kecs refuses it on Kubernetes (imports the handler modules once)."""
    handlers()
    return dict(_unsupported)


def handlers() -> dict[str, Handler]:
    """Every registered handler by operation name (imports the handler modules once)."""
    global _loaded
    if not _loaded:
        with _load_lock:
            if not _loaded:
                for module in HANDLER_MODULES:
                    importlib.import_module(module)
                _loaded = True
    return _handlers


def handler_for(name: str) -> Handler | None:
    return handlers().get(name)
