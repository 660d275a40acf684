"""ECS errors as kecs raises them.

Operations raise :class:`ECSError` subclasses; the wire handler turns them into the JSON 1.1
error body ``{"__type": code, "message": ...}`` that botocore parses into the client's own
modelled exception classes (``client.exceptions.ClusterNotFoundException`` and so on).
"""

from __future__ import annotations

from typing import Any


class KecsError(Exception):
    """Base class of every exception kecs defines."""


class UnsupportedServiceError(KecsError, ValueError):
    """``kecs.client`` was asked for a service other than ECS."""


class ECSError(KecsError):
    """An error that reaches the caller as an ECS error code."""

    code = "ClientException"
    status = 400

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        #: Further members of the error shape (e.g. ``resourceIds``), sent next to the message.
        self.fields: dict[str, Any] = fields

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ClientException(ECSError):
    code = "ClientException"


class InvalidParameterException(ECSError):
    code = "InvalidParameterException"


class ServerException(ECSError):
    code = "ServerException"
    status = 500


class ClusterNotFoundException(ECSError):
    code = "ClusterNotFoundException"


class ClusterContainsServicesException(ECSError):
    code = "ClusterContainsServicesException"


class ClusterContainsTasksException(ECSError):
    code = "ClusterContainsTasksException"


class ClusterContainsContainerInstancesException(ECSError):
    code = "ClusterContainsContainerInstancesException"


class ClusterContainsCapacityProviderException(ECSError):
    code = "ClusterContainsCapacityProviderException"


class ServiceNotFoundException(ECSError):
    code = "ServiceNotFoundException"


class ServiceNotActiveException(ECSError):
    code = "ServiceNotActiveException"


class ResourceNotFoundException(ECSError):
    code = "ResourceNotFoundException"


class ResourceInUseException(ECSError):
    code = "ResourceInUseException"


class UnsupportedFeatureException(ECSError):
    code = "UnsupportedFeatureException"


class LimitExceededException(ECSError):
    code = "LimitExceededException"


class AccessDeniedException(ECSError):
    code = "AccessDeniedException"


class TargetNotFoundException(ECSError):
    code = "TargetNotFoundException"


class PlatformUnknownException(ECSError):
    code = "PlatformUnknownException"


class PlatformTaskDefinitionIncompatibilityException(ECSError):
    code = "PlatformTaskDefinitionIncompatibilityException"


class ConflictException(ECSError):
    code = "ConflictException"


class UpdateInProgressException(ECSError):
    code = "UpdateInProgressException"


class SerializationException(ECSError):
    """The request body is not a JSON object (AWS's JSON protocol answers the same)."""

    code = "SerializationException"


class UnknownOperationException(ECSError):
    code = "UnknownOperationException"


class ServiceDeploymentNotFoundException(ECSError):
    code = "ServiceDeploymentNotFoundException"


class NamespaceNotFoundException(ECSError):
    code = "NamespaceNotFoundException"


class AttributeLimitExceededException(ECSError):
    code = "AttributeLimitExceededException"


class TaskSetNotFoundException(ECSError):
    code = "TaskSetNotFoundException"


class DaemonNotFoundException(ECSError):
    code = "DaemonNotFoundException"


class DaemonNotActiveException(ECSError):
    code = "DaemonNotActiveException"
