"""Checking CreateService / UpdateService parameters with ECS's rules and wording.

botocore has already checked types and enums; what is left is ECS's own rules. The result is
the *service spec*: the request members as the service keeps them (``taskDefinition`` resolved
to the full ARN, the cluster's default capacity provider strategy and Service Connect namespace
filled in), stored whole on the workload (``kecs.dev/service-spec``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from kecs import arns
from kecs.errors import ClientException, InvalidParameterException, UnsupportedFeatureException
from kecs.operations import cluster_params, tagging
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.task_definitions import parse_reference
from kecs.operations.taskdefs.store import ACTIVE, TaskDefinitionStore

Params = dict[str, Any]

NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
CLIENT_TOKEN = re.compile(r"[\x21-\x7e]{1,36}")
REPLICA, DAEMON = "REPLICA", "DAEMON"
ECS, EXTERNAL, CODE_DEPLOY = "ECS", "EXTERNAL", "CODE_DEPLOY"
#: Members that are not part of the service's configuration.
_NOT_SPEC = ("cluster", "service", "forceNewDeployment")
NOT_IDEMPOTENT = "Creation of service was not idempotent."
STILL_DRAINING = "Unable to Start a service that is still Draining."
NOT_FOUND = "Service not found."
NOT_ACTIVE = "Service was not ACTIVE."
_DAEMON_COUNT = (
    "The daemon scheduling strategy does not support a desired count for services. "
    "Remove the desired count value and try again"
)


class TaskDefinitionRef(NamedTuple):
    arn: str
    task_definition: dict[str, Any]
    template: dict[str, Any]
    tags: list[dict[str, str]]


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InvalidParameterException(
            "Invalid service name. Up to 255 letters (uppercase and lowercase), numbers, "
            "underscores, and hyphens are allowed."
        )
    return name


def task_definition(ctx: RequestContext, value: str) -> TaskDefinitionRef:
    """The ACTIVE task definition ``value`` names (family, family:revision or ARN)."""
    ref = parse_reference(ctx, value)
    store = TaskDefinitionStore(ctx)
    found = None
    if ref is not None:
        found = (
            store.latest(ref.family)
            if ref.revision is None
            else store.get(ref.family, ref.revision)
        )
    if found is None:
        raise ClientException("TaskDefinition not found.")
    td = found.task_definition
    if td.get("status") != ACTIVE:
        raise InvalidParameterException("TaskDefinition is inactive")
    template = found.obj.get("template") or {}
    return TaskDefinitionRef(td["taskDefinitionArn"], td, template, found.tags)


def controller_type(spec: Mapping[str, Any]) -> str:
    """The deployment controller of a service spec or request: ECS, EXTERNAL or CODE_DEPLOY."""
    return str((spec.get("deploymentController") or {}).get("type") or ECS)


def _check_controller(params: Mapping[str, Any]) -> None:
    controller = controller_type(params)
    if controller not in (ECS, EXTERNAL, CODE_DEPLOY):
        raise InvalidParameterException(
            f"Invalid deployment controller type '{controller}'. Valid values are ECS, "
            "CODE_DEPLOY, EXTERNAL."
        )
    strategy = (params.get("deploymentConfiguration") or {}).get("strategy", "ROLLING")
    if strategy != "ROLLING":
        raise UnsupportedFeatureException(
            f"The {strategy} deployment strategy is not supported by kecs: Kubernetes "
            "Deployments roll out with the ROLLING strategy only."
        )


def check_deployment_configuration(config: Mapping[str, Any] | None, daemon: bool) -> None:
    if not config:
        return
    maximum, minimum = config.get("maximumPercent"), config.get("minimumHealthyPercent")
    if minimum is not None and not 0 <= minimum <= 100:
        raise InvalidParameterException(
            f"minimumHealthyPercent must be between 0 and 100, but was {minimum}."
        )
    if maximum is not None and daemon and maximum > 100:
        raise InvalidParameterException(
            "The daemon scheduling strategy does not support values above 100 for "
            "maximumPercent on a deployment configuration. Change the maximumPercent value to "
            "100, and try again"
        )
    if maximum is not None and not daemon and maximum < 100:
        raise InvalidParameterException(
            "maximumPercent must be at least 100 for the REPLICA scheduling strategy, but was "
            f"{maximum}."
        )
    if maximum is not None and minimum is not None and maximum <= minimum and not daemon:
        raise InvalidParameterException(
            "maximumPercent must be greater than minimumHealthyPercent, or no task could be "
            "replaced during a deployment."
        )


def _check_network(spec: Mapping[str, Any], td: Mapping[str, Any]) -> None:
    network = spec.get("networkConfiguration")
    awsvpc = td.get("networkMode") == "awsvpc"
    if awsvpc and not network:
        raise InvalidParameterException(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified."
        )
    if network and not awsvpc:
        raise InvalidParameterException(
            "Network Configuration is not valid for the given networkMode of this task definition."
        )
    vpc = (network or {}).get("awsvpcConfiguration")
    if network and not vpc:
        raise InvalidParameterException("awsvpcConfiguration must be provided.")
    if vpc is not None and not vpc.get("subnets"):
        raise InvalidParameterException("subnets can not be empty.")
    if vpc is not None and len(vpc.get("subnets") or []) > 16:
        raise InvalidParameterException("At most 16 subnets can be specified.")
    if vpc is not None and len(vpc.get("securityGroups") or []) > 5:
        raise InvalidParameterException("At most 5 security groups can be specified.")


def _check_launch(
    ctx: RequestContext, ref: ClusterRef, spec: Params, td: Mapping[str, Any]
) -> None:
    launch_type, strategy = spec.get("launchType"), spec.get("capacityProviderStrategy")
    daemon = spec.get("schedulingStrategy") == DAEMON
    if launch_type and strategy:
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported. "
            "Remove one and try again."
        )
    if strategy:
        if daemon:
            raise InvalidParameterException(
                "Specifying a capacity provider strategy is not supported when you create a "
                "service using the DAEMON scheduling strategy."
            )
        _, spec["capacityProviderStrategy"] = cluster_params.check_capacity_providers(
            ctx, ref.spec.capacity_providers, strategy
        )
    if launch_type == "FARGATE" and daemon:
        raise InvalidParameterException(
            "The DAEMON scheduling strategy is not supported with the FARGATE launch type."
        )
    fargate = launch_type == "FARGATE" or any(
        s["capacityProvider"] in cluster_params.FARGATE_PROVIDERS for s in strategy or []
    )
    if fargate and "FARGATE" not in (td.get("compatibilities") or []):
        raise InvalidParameterException("Task definition does not support launch_type FARGATE.")
    if spec.get("platformVersion") and not fargate:
        raise InvalidParameterException(
            "The platform version must be null when specifying an EC2 launch type."
        )


def _check_common(spec: Params, daemon: bool) -> None:
    grace = spec.get("healthCheckGracePeriodSeconds")
    if grace is not None and not 0 <= grace <= 2147483647:
        raise InvalidParameterException(
            "healthCheckGracePeriodSeconds must be between 0 and 2147483647."
        )
    if daemon and spec.get("placementStrategy"):
        raise InvalidParameterException(
            "The daemon scheduling strategy does not support placement strategies. Remove the "
            "placement strategy and try again"
        )
    check_deployment_configuration(spec.get("deploymentConfiguration"), daemon)
    count = spec.get("desiredCount")
    if count is not None and count < 0:
        raise InvalidParameterException("Desired count must be greater than or equal to 0.")


def _defaults(ref: ClusterRef, spec: Params) -> None:
    """What ECS fills in: AZ rebalancing, and from the cluster capacity providers and the
    Service Connect namespace."""
    daemon = spec.get("schedulingStrategy") == DAEMON
    if not daemon:
        spec.setdefault("availabilityZoneRebalancing", "ENABLED")
    if not spec.get("launchType") and not spec.get("capacityProviderStrategy"):
        default = ref.spec.default_capacity_provider_strategy
        if default and not daemon:
            spec["capacityProviderStrategy"] = [dict(s) for s in default]
        elif default and daemon:
            raise InvalidParameterException(
                "Specifying a capacity provider strategy is not supported when you create a "
                "service using the DAEMON scheduling strategy."
            )
        else:
            spec["launchType"] = "EC2"
    connect = spec.get("serviceConnectConfiguration")
    if connect and connect.get("enabled") and not connect.get("namespace"):
        defaults = ref.spec.service_connect_defaults or {}
        if not defaults.get("namespace"):
            raise InvalidParameterException(
                "Service Connect requires a namespace: specify one in the "
                "serviceConnectConfiguration or as the cluster's serviceConnectDefaults."
            )
        spec["serviceConnectConfiguration"] = {**connect, "namespace": defaults["namespace"]}


def check_client_token(token: str | None) -> None:
    """ECS's rule for ``clientToken`` (CreateService, CreateTaskSet, CreateDaemon)."""
    if token is not None and not CLIENT_TOKEN.fullmatch(token):
        raise InvalidParameterException(
            "clientToken can have up to 36 ASCII characters in the range of 33-126 (inclusive)."
        )


def create_spec(
    ctx: RequestContext, ref: ClusterRef, params: Params
) -> tuple[Params, TaskDefinitionRef]:
    """The service spec of a CreateService request, and its task definition."""
    check_name(params["serviceName"])
    _check_controller(params)
    check_client_token(params.get("clientToken"))
    spec = {k: v for k, v in params.items() if k not in _NOT_SPEC and v is not None}
    daemon = spec.get("schedulingStrategy") == DAEMON
    spec["schedulingStrategy"] = DAEMON if daemon else REPLICA
    if daemon and "desiredCount" in spec:
        raise InvalidParameterException(_DAEMON_COUNT)
    if not daemon and "desiredCount" not in spec:
        raise InvalidParameterException(
            "The desired count must be specified for a service using the REPLICA scheduling "
            "strategy."
        )
    if not spec.get("taskDefinition"):
        raise InvalidParameterException(
            "A task definition must be specified for a service using the ECS deployment controller."
        )
    tagging.validate_tags(spec.get("tags") or [])
    _check_common(spec, daemon)
    td = task_definition(ctx, spec["taskDefinition"])
    spec["taskDefinition"] = td.arn
    _defaults(ref, spec)
    _check_launch(ctx, ref, spec, td.task_definition)
    _check_network(spec, td.task_definition)
    return spec, td


def external_spec(
    ctx: RequestContext, ref: ClusterRef, params: Params
) -> tuple[Params, TaskDefinitionRef | None]:
    """The service spec of a CreateService request with the EXTERNAL or CODE_DEPLOY deployment
    controller, and its task definition (optional with EXTERNAL: task sets name theirs)."""
    check_name(params["serviceName"])
    _check_controller(params)
    check_client_token(params.get("clientToken"))
    controller = controller_type(params)
    spec = {k: v for k, v in params.items() if k not in _NOT_SPEC and v is not None}
    if spec.get("schedulingStrategy") == DAEMON:
        raise InvalidParameterException(
            f"The {controller} deployment controller requires the REPLICA scheduling strategy."
        )
    spec["schedulingStrategy"] = REPLICA
    spec["deploymentController"] = {"type": controller}
    if "desiredCount" not in spec:
        raise InvalidParameterException(
            "The desired count must be specified for a service using the REPLICA scheduling "
            "strategy."
        )
    tagging.validate_tags(spec.get("tags") or [])
    _check_common(spec, False)
    if controller == CODE_DEPLOY and not spec.get("taskDefinition"):
        raise InvalidParameterException(
            "A task definition must be specified for a service using the CODE_DEPLOY "
            "deployment controller."
        )
    td = task_definition(ctx, spec["taskDefinition"]) if spec.get("taskDefinition") else None
    if td is not None:
        spec["taskDefinition"] = td.arn
    spec.setdefault("availabilityZoneRebalancing", "ENABLED")
    if controller == CODE_DEPLOY:
        assert td is not None
        _defaults(ref, spec)
        _check_launch(ctx, ref, spec, td.task_definition)
        _check_network(spec, td.task_definition)
    elif spec.get("launchType") and spec.get("capacityProviderStrategy"):
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported. "
            "Remove one and try again."
        )
    return spec, td


def same_request(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a CreateService repeats the one that made ``existing`` (its idempotency)."""

    def comparable(spec: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in spec.items() if k != "clientToken" and v not in (None, [], {})}

    return comparable(existing) == comparable(wanted)


def update_spec(
    ctx: RequestContext, ref: ClusterRef, current: Mapping[str, Any], params: Params
) -> tuple[Params, TaskDefinitionRef | None]:
    """The service spec after an UpdateService, and the task definition when it names one."""
    _check_controller({**current, **params})
    wanted = params.get("deploymentController")
    if wanted and controller_type(params) != controller_type(current):
        raise UnsupportedFeatureException(
            f"kecs cannot change the deployment controller of a service (from "
            f"{controller_type(current)} to {controller_type(params)}): delete the service and "
            "create it again with the new controller."
        )
    daemon = current.get("schedulingStrategy") == DAEMON
    if daemon and params.get("desiredCount") is not None:
        raise InvalidParameterException(_DAEMON_COUNT)
    spec = dict(current)
    for key, value in params.items():
        if key in _NOT_SPEC or value is None:
            continue
        if key == "deploymentConfiguration":
            spec[key] = {**(current.get(key) or {}), **value}
        else:
            spec[key] = value
    if params.get("capacityProviderStrategy"):
        spec.pop("launchType", None)
    if params.get("capacityProviderStrategy") == []:
        spec.pop("capacityProviderStrategy", None)
        spec.setdefault("launchType", "EC2")
    _check_common(spec, daemon)
    td = None
    if params.get("taskDefinition"):
        td = task_definition(ctx, params["taskDefinition"])
        spec["taskDefinition"] = td.arn
    return spec, td


def check_launch(ctx: RequestContext, ref: ClusterRef, spec: Params, td: Mapping[str, Any]) -> None:
    """The launch and network rules, against the task definition the service runs."""
    _check_launch(ctx, ref, spec, td)
    _check_network(spec, td)


def service_identifier(ctx: RequestContext, ref: ClusterRef, value: str) -> str | None:
    """The service name ``value`` designates in the cluster (name or ARN), or ``None``."""
    found = arns.in_cluster(value, "service", ctx.region, ctx.account_id, ref.name)
    return found if found is not None and NAME.fullmatch(found) else None
