"""Checking and normalising the parameters of the cluster operations, with AWS's rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kecs import arns
from kecs.errors import InvalidParameterException
from kecs.mapping import cluster as mapping
from kecs.mapping import names
from kecs.operations import tagging
from kecs.operations.context import RequestContext

CONTAINER_INSIGHTS = "containerInsights"
CONTAINER_INSIGHTS_VALUES = ("enhanced", "enabled", "disabled")
#: What a cluster gets when created without settings (the account default, as on AWS).
DEFAULT_SETTINGS = ({"name": CONTAINER_INSIGHTS, "value": "disabled"},)
FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
MAX_CLUSTERS_PER_DESCRIBE = 100

#: Answers "does a capacity provider of this name exist in the caller's account and region?".
CapacityProviderLookup = Callable[[RequestContext, str], bool]
_provider_lookups: list[CapacityProviderLookup] = []


def register_capacity_provider_lookup(lookup: CapacityProviderLookup) -> None:
    """Let the capacity-provider family say which non-Fargate providers exist."""
    if lookup not in _provider_lookups:
        _provider_lookups.append(lookup)


def capacity_provider_exists(ctx: RequestContext, name: str) -> bool:
    return name in FARGATE_PROVIDERS or any(lookup(ctx, name) for lookup in _provider_lookups)


def check_name(name: str) -> str:
    if not mapping.is_valid_name(name):
        raise InvalidParameterException(
            "Invalid cluster name. Up to 255 letters (uppercase and lowercase), numbers, "
            "underscores, and hyphens are allowed."
        )
    return name


def check_tags(tags: tagging.Tags, *, existing: tagging.Tags | None = None) -> tagging.Tags:
    """AWS's tag rules plus kecs's own isolation tags (docs/clusters.md)."""
    tagging.validate_tags(tags, existing=existing)
    merged = tagging.merge_tags(existing or [], tags)
    try:
        mapping.isolation_from_tags(merged)
    except ValueError as exc:
        raise InvalidParameterException(str(exc)) from None
    return merged


def merge_settings(
    current: Sequence[dict[str, str]], new: Sequence[dict[str, Any]]
) -> list[dict[str, str]]:
    """``current`` with each setting of ``new`` replacing the one of the same name."""
    merged = {s["name"]: s["value"] for s in current}
    for setting in new:
        name, value = setting.get("name"), setting.get("value")
        if name != CONTAINER_INSIGHTS:
            raise InvalidParameterException(
                f"Invalid cluster setting name {name!r}. Valid names: {CONTAINER_INSIGHTS}."
            )
        if value not in CONTAINER_INSIGHTS_VALUES:
            raise InvalidParameterException(
                f"Invalid value {value!r} for the cluster setting {CONTAINER_INSIGHTS}. "
                f"Valid values: {', '.join(CONTAINER_INSIGHTS_VALUES)}."
            )
        merged[name] = value
    return [{"name": k, "value": v} for k, v in merged.items()]


def merge_configuration(
    current: dict[str, Any] | None, new: dict[str, Any] | None
) -> dict[str, Any] | None:
    """``current`` with each part given in ``new`` (execute command, managed storage) replaced."""
    if new is None:
        return current
    execute = new.get("executeCommandConfiguration")
    if execute is not None:
        logging = execute.get("logging", "DEFAULT")
        if logging not in ("NONE", "DEFAULT", "OVERRIDE"):
            raise InvalidParameterException(
                f"Invalid logging value {logging!r}. Valid values: NONE, DEFAULT, OVERRIDE."
            )
        if logging == "OVERRIDE" and not execute.get("logConfiguration"):
            raise InvalidParameterException(
                "When logging=OVERRIDE is specified, a logConfiguration must be provided."
            )
    merged = dict(current or {})
    merged.update({k: v for k, v in new.items() if v is not None})
    return merged or None


def service_connect_defaults(value: dict[str, Any] | None) -> dict[str, str] | None:
    """The stored form of ``serviceConnectDefaults``; an empty namespace removes it (as on AWS)."""
    if value is None:
        return None
    namespace = value.get("namespace", "")
    if namespace == "":
        return None
    if (
        len(namespace) > 1024
        or any(c in namespace for c in '<>"')
        or ("/" in namespace and not arns.is_arn(namespace))
    ):
        raise InvalidParameterException(
            "The namespace name can include up to 1024 characters and can't include "
            'greater than (>), less than (<), double quotation marks ("), or slash (/).'
        )
    return {"namespace": namespace}


def service_connect_namespace_arn(region: str, account: str, namespace: str) -> str:
    """The Cloud Map namespace ARN AWS reports; a name stands for a namespace of that name."""
    if arns.is_arn(namespace):
        return namespace
    namespace_id = "ns-" + names.digest(account, region, namespace, length=16)
    return f"arn:{arns.PARTITION}:servicediscovery:{region}:{account}:namespace/{namespace_id}"


def check_capacity_providers(
    ctx: RequestContext, providers: Sequence[str], strategy: Sequence[dict[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The cluster's capacity providers and default strategy, normalised, or the AWS error."""
    for provider in providers:
        if not capacity_provider_exists(ctx, provider):
            raise InvalidParameterException(
                "The specified capacity provider was not found. "
                "Specify a valid capacity provider and try again."
            )
    if len(set(providers)) != len(providers):
        raise InvalidParameterException("The capacity providers must be unique.")
    normalised = []
    seen: set[str] = set()
    for item in strategy:
        name = item["capacityProvider"]
        if name not in providers:
            raise InvalidParameterException(
                "The specified capacity provider strategy cannot contain a capacity provider "
                "that is not associated with the cluster. Associate the capacity provider with "
                "the cluster or specify a valid capacity provider and try again."
            )
        if name in seen:
            raise InvalidParameterException(
                "The specified capacity provider strategy cannot contain duplicate capacity "
                "providers."
            )
        seen.add(name)
        weight, base = item.get("weight", 0), item.get("base", 0)
        if not 0 <= weight <= 1000 or not 0 <= base <= 100000:
            raise InvalidParameterException(
                "The weight of a capacity provider must be between 0 and 1000 and its base "
                "between 0 and 100000."
            )
        normalised.append({"capacityProvider": name, "weight": weight, "base": base})
    if sum(1 for item in normalised if item["base"] > 0) > 1:
        raise InvalidParameterException(
            "Only one capacity provider in a capacity provider strategy can have a base defined."
        )
    fargate = {i["capacityProvider"] in FARGATE_PROVIDERS for i in normalised}
    if len(fargate) > 1:
        raise InvalidParameterException(
            "The specified capacity provider strategy cannot contain a mix of capacity providers "
            "using Auto Scaling groups and Fargate providers. Specify one or the other and try "
            "again."
        )
    return list(providers), normalised


def check_include(include: Sequence[str]) -> frozenset[str]:
    allowed = ("ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS")
    for value in include:
        if value not in allowed:
            raise InvalidParameterException(
                f"Invalid include value {value!r}. Valid values: {', '.join(allowed)}."
            )
    return frozenset(include)
