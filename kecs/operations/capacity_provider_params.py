"""AWS's rules for capacity provider parameters, and the record kecs keeps of a provider."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from kecs import arns
from kecs.errors import ClientException, InvalidParameterException
from kecs.mapping.capacity import FARGATE_PROVIDERS

Params = dict[str, Any]

EC2_AUTOSCALING = "EC2_AUTOSCALING"
MANAGED_INSTANCES = "MANAGED_INSTANCES"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_RESERVED_PREFIXES = ("aws", "ecs", "fargate")
#: ``managedScaling`` as AWS reports it when a member was not given.
SCALING_DEFAULTS = {
    "status": "DISABLED",
    "targetCapacity": 100,
    "minimumScalingStepSize": 1,
    "maximumScalingStepSize": 10000,
    "instanceWarmupPeriod": 300,
}
EXISTS = (
    "The specified capacity provider already exists. To change the configuration of an "
    "existing capacity provider, update the capacity provider."
)
NOT_FOUND = (
    "The specified capacity provider does not exist. Specify a valid name or ARN and try again."
)
ASG_IN_USE = (
    "The specified Auto Scaling group ARN is already being used by another capacity provider. "
    "Specify a unique Auto Scaling group ARN and try again."
)
RESERVED = "The FARGATE and FARGATE_SPOT capacity providers are reserved and can't be {}."


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidParameterException(
            "The capacity provider name is invalid. Up to 255 letters (uppercase and "
            "lowercase), numbers, underscores, and hyphens are allowed."
        )
    if name.lower().startswith(_RESERVED_PREFIXES):
        raise InvalidParameterException(
            "The capacity provider name can't be prefixed with 'aws', 'ecs', or 'fargate'."
        )
    return name


def name_of(value: str) -> str:
    """The provider name a ``name`` or ARN parameter designates."""
    return arns.name_from(value, "capacity-provider")


def _bounded(scaling: Mapping[str, Any], member: str, low: int, high: int) -> None:
    value = scaling.get(member)
    if value is not None and not low <= value <= high:
        raise InvalidParameterException(
            f"managedScaling.{member} must be between {low} and {high}."
        )


def scaling(given: Mapping[str, Any] | None, current: Mapping[str, Any] | None) -> Params:
    """``managedScaling`` with AWS's bounds checked and the missing members filled in."""
    result = dict(current or SCALING_DEFAULTS)
    if given:
        _bounded(given, "targetCapacity", 1, 100)
        _bounded(given, "minimumScalingStepSize", 1, 10000)
        _bounded(given, "maximumScalingStepSize", 1, 10000)
        _bounded(given, "instanceWarmupPeriod", 0, 10000)
        result.update({k: v for k, v in given.items() if v is not None})
        if "status" not in given and current is None:
            result["status"] = "ENABLED"
    if result["minimumScalingStepSize"] > result["maximumScalingStepSize"]:
        raise InvalidParameterException(
            "managedScaling.minimumScalingStepSize cannot be greater than "
            "managedScaling.maximumScalingStepSize."
        )
    return result


def _termination_check(provider: Mapping[str, Any]) -> None:
    if (
        provider.get("managedTerminationProtection") == "ENABLED"
        and provider["managedScaling"]["status"] != "ENABLED"
    ):
        raise ClientException(
            "The managed termination protection setting for the capacity provider is invalid. "
            "Managed termination protection requires managed scaling to be enabled."
        )


def auto_scaling_group_provider(given: Mapping[str, Any]) -> Params:
    arn = str(given.get("autoScalingGroupArn") or "")
    if not arn.startswith("arn:") or ":autoscaling:" not in arn:
        raise InvalidParameterException("The specified Auto Scaling group ARN is not valid.")
    provider: Params = {
        "autoScalingGroupArn": arn,
        "managedScaling": scaling(given.get("managedScaling"), None),
        "managedTerminationProtection": given.get("managedTerminationProtection") or "DISABLED",
        "managedDraining": given.get("managedDraining") or "ENABLED",
    }
    _termination_check(provider)
    return provider


def updated_auto_scaling_group_provider(
    current: Mapping[str, Any], given: Mapping[str, Any]
) -> Params:
    provider = copy.deepcopy(dict(current))
    if given.get("managedScaling") is not None:
        provider["managedScaling"] = scaling(given["managedScaling"], current.get("managedScaling"))
    for member in ("managedTerminationProtection", "managedDraining"):
        if given.get(member):
            provider[member] = given[member]
    _termination_check(provider)
    return provider


def check_not_reserved(name: str, verb: str) -> None:
    if name in FARGATE_PROVIDERS:
        raise InvalidParameterException(RESERVED.format(verb))
