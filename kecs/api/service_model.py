"""botocore's ECS service model, loaded once per process and shared by every client."""

from __future__ import annotations

import functools
import threading

import botocore.session
from botocore.model import OperationModel, ServiceModel

_lock = threading.Lock()


@functools.cache
def session() -> botocore.session.Session:
    """One botocore session whose loaders (and their JSON model cache) every client shares."""
    with _lock:
        return botocore.session.get_session()


@functools.cache
def service_model() -> ServiceModel:
    return session().get_service_model("ecs")


@functools.cache
def operation_model(name: str) -> OperationModel:
    return service_model().operation_model(name)


def target_prefix() -> str:
    return str(service_model().metadata["targetPrefix"])


@functools.cache
def operation_names() -> frozenset[str]:
    return frozenset(service_model().operation_names)
