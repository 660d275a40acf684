"""Which function answers which ECS operation.

Handler modules register themselves with :func:`operation`; they are imported on the first
dispatch, so ``import kecs`` stays cheap. An operation of botocore's model that no module
registers answers ``UnsupportedFeatureException``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

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
)

_handlers: dict[str, Handler] = {}
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
