"""Task sets of EXTERNAL services: Create / Describe / Update / DeleteTaskSet,
UpdateServicePrimaryTaskSet, and their tags.

A task set is a Deployment owned by its service's record (:mod:`kecs.mapping.task_sets`,
written through :mod:`kecs.operations.external_services`):

- CreateTaskSet: the task definition must be ACTIVE; the launch type or capacity provider
  strategy is the request's, else the service's, else the cluster's default strategy, else
  EC2 (ECS's launch rules and network checks apply: :func:`kecs.operations.service_params.
  check_launch`); ``scale`` defaults to 0 %, as on ECS; a ``clientToken`` seen before returns
  that task set. New task sets are ACTIVE.
- UpdateTaskSet changes the scale, so the replicas (``computedDesiredCount``).
- DeleteTaskSet scales the task set to 0 and marks it DRAINING (without ``force`` only one
  already scaled to 0); once its tasks have stopped the scheduler deletes its Deployment.
- UpdateServicePrimaryTaskSet makes one task set PRIMARY (the previous PRIMARY becomes
  ACTIVE), takes its task definition and launch settings as the service's, and points the
  service's Kubernetes Service at its tasks.
- DescribeTaskSets answers every task set of any service (none for an ECS-controller
  service); unknown ids or ARNs are failures (``MISSING``).

A task set is named by its id (``ecs-svc/<digits>``) or its ARN
(``task-set/<cluster>/<service>/<id>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kecs import arns
from kecs.arns import Arn
from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.errors import (
    InvalidParameterException,
    ServiceNotActiveException,
    TaskSetNotFoundException,
)
from kecs.mapping import k8s_time, task_keys, task_sets
from kecs.operations import external_services as external
from kecs.operations import service_params, tagging, task_set_view
from kecs.operations import service_rollout as rollout
from kecs.operations import service_scheduler as scheduler
from kecs.operations import service_store as store
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.service_params import NOT_ACTIVE
from kecs.operations.service_store import Stored

Params = dict[str, Any]
NOT_FOUND = "The specified task set does not exist."
PERCENT = "PERCENT"


def task_set_id(ctx: RequestContext, ref: ClusterRef, service: str, value: str) -> str | None:
    """The task set id ``value`` (an id or a task set ARN of this service) names, else ``None``."""
    if not arns.is_arn(value):
        return value
    parsed = arns.parse_task_set(value)
    if (
        parsed is None
        or parsed.region != ctx.region
        or parsed.account != ctx.account_id
        or parsed.cluster != ref.name
        or parsed.service != service
    ):
        return None
    return parsed.id


def _find(stored: Stored, set_id: str | None) -> Object | None:
    for deployment in stored.task_sets:
        if set_id is not None and task_sets.task_set_of(deployment).get("id") == set_id:
            return deployment
    return None


def _one(ctx: RequestContext, ref: ClusterRef, stored: Stored, value: str) -> tuple[Object, Params]:
    deployment = _find(stored, task_set_id(ctx, ref, stored.name, value))
    if deployment is None:
        raise TaskSetNotFoundException(NOT_FOUND)
    return deployment, task_sets.task_set_of(deployment)


def _shown(
    ctx: RequestContext, ref: ClusterRef, name: str, set_id: str, *, settle: bool = True
) -> Params:
    """The task set as it stands (after the scheduler reacted, unless ``settle`` is off)."""
    stored = (
        scheduler.settle(ctx, ref, [name]).get(name) if settle else store.load_one(ctx, ref, name)
    )
    assert stored is not None
    for task_set in task_set_view.task_set_list(ctx, ref, stored, include_tags=False):
        if task_set["id"] == set_id:
            return task_set
    raise TaskSetNotFoundException(NOT_FOUND)


def check_scale(scale: Mapping[str, Any] | None) -> dict[str, Any]:
    """ECS's ``Scale`` (``PERCENT`` from 0 to 100); 0 % when not given, as on ECS."""
    if scale is None:
        return {"value": 0.0, "unit": PERCENT}
    unit = scale.get("unit") or PERCENT
    value = scale.get("value")
    value = 0.0 if value is None else float(value)
    if unit != PERCENT:
        raise InvalidParameterException(f"The scale unit must be {PERCENT}.")
    if not 0.0 <= value <= 100.0:
        raise InvalidParameterException("The scale value must be between 0 and 100 (percent).")
    return {"value": value, "unit": PERCENT}


def _settings(ref: ClusterRef, stored: Stored, params: Params) -> Params:
    """The task set's launch settings: the request's, else the service's, else the cluster's."""
    settings = {k: params[k] for k in task_sets.SETTINGS if params.get(k)}
    if params.get("launchType") and params.get("capacityProviderStrategy"):
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported. "
            "Remove one and try again."
        )
    if not settings.get("launchType") and not settings.get("capacityProviderStrategy"):
        spec = stored.spec
        default = ref.spec.default_capacity_provider_strategy
        if spec.get("launchType"):
            settings["launchType"] = spec["launchType"]
        elif spec.get("capacityProviderStrategy"):
            settings["capacityProviderStrategy"] = spec["capacityProviderStrategy"]
        elif default:
            settings["capacityProviderStrategy"] = [dict(s) for s in default]
        else:
            settings["launchType"] = "EC2"
    vpc = (settings.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if vpc is not None:
        settings["networkConfiguration"] = {
            "awsvpcConfiguration": {"assignPublicIp": "DISABLED", **vpc}
        }
    return settings


# -- operations ---------------------------------------------------------------------------


@operation("CreateTaskSet")
def create_task_set(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params["cluster"])
    stored = external.external_service(ctx, ref, params["service"])
    token = params.get("clientToken")
    if token is not None:
        service_params.check_client_token(token)
        for deployment in stored.task_sets:
            if task_sets.task_set_of(deployment).get("clientToken") == token:
                set_id = str(task_sets.task_set_of(deployment)["id"])
                return {"taskSet": _shown(ctx, ref, stored.name, set_id)}
    tags = list(params.get("tags") or [])
    tagging.validate_tags(tags)
    td = service_params.task_definition(ctx, params["taskDefinition"])
    settings = _settings(ref, stored, params)
    launch = {**settings, "schedulingStrategy": service_params.REPLICA}
    service_params.check_launch(ctx, ref, launch, td.task_definition)
    if launch.get("capacityProviderStrategy"):
        settings["capacityProviderStrategy"] = launch["capacityProviderStrategy"]
    task_set: Params = {
        "id": external.new_task_set_id(),
        "taskDefinition": td.arn,
        "scale": check_scale(params.get("scale")),
        "createdAt": k8s_time.format_micro(ctx.now()),
        **settings,
    }
    for key in ("externalId", "clientToken"):
        if params.get(key):
            task_set[key] = params[key]
    external.add_task_set(ctx, ref, stored, task_set, td, tags=tags)
    return {"taskSet": _shown(ctx, ref, stored.name, task_set["id"])}


@operation("DescribeTaskSets")
def describe_task_sets(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params["cluster"])
    stored = external.lookup(ctx, ref, params["service"])
    if stored.workload is None:
        raise ServiceNotActiveException(NOT_ACTIVE)
    include_tags = "TAGS" in (params.get("include") or [])
    found = task_set_view.task_set_list(ctx, ref, stored, include_tags=include_tags)
    wanted = params.get("taskSets")
    if wanted is None:
        return {"taskSets": found, "failures": []}
    by_id = {t["id"]: t for t in found}
    result, failures = [], []
    for value in wanted:
        set_id = task_set_id(ctx, ref, stored.name, value)
        if set_id is not None and set_id in by_id:
            if by_id[set_id] not in result:
                result.append(by_id[set_id])
        else:
            failures.append(
                {"arn": _failure_arn(ctx, ref, stored.name, value), "reason": "MISSING"}
            )
    return {"taskSets": result, "failures": failures}


def _failure_arn(ctx: RequestContext, ref: ClusterRef, service: str, value: str) -> str:
    if arns.is_arn(value):
        return value
    return arns.task_set(ctx.region, ctx.account_id, ref.name, service, value)


@operation("UpdateTaskSet")
def update_task_set(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params["cluster"])
    stored = external.external_service(ctx, ref, params["service"])
    deployment, task_set = _one(ctx, ref, stored, params["taskSet"])
    if task_sets.status_of(deployment) == task_sets.DRAINING:
        raise InvalidParameterException("A DRAINING task set cannot be scaled.")
    task_set["scale"] = check_scale(params["scale"])
    replicas = task_sets.replicas_of(stored.spec, task_set)
    external.set_task_set(ctx, deployment, task_set=task_set, replicas=replicas)
    return {"taskSet": _shown(ctx, ref, stored.name, str(task_set["id"]))}


@operation("DeleteTaskSet")
def delete_task_set(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params["cluster"])
    stored = external.external_service(ctx, ref, params["service"])
    deployment, task_set = _one(ctx, ref, stored, params["taskSet"])
    set_id = str(task_set["id"])
    if task_sets.status_of(deployment) == task_sets.DRAINING:
        return {"taskSet": _shown(ctx, ref, stored.name, set_id, settle=False)}
    replicas = int((deployment.get("spec") or {}).get("replicas") or 0)
    if replicas > 0 and not params.get("force"):
        raise InvalidParameterException(
            "The task set cannot be deleted while it is scaled above 0 tasks: scale it to 0 "
            "first (UpdateTaskSet), or delete it with force."
        )
    external.set_task_set(ctx, deployment, status=task_sets.DRAINING, replicas=0)
    response = {"taskSet": _shown(ctx, ref, stored.name, set_id, settle=False)}
    scheduler.settle(ctx, ref, [stored.name])
    return response


@operation("UpdateServicePrimaryTaskSet")
def update_service_primary_task_set(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params["cluster"])
    stored = external.external_service(ctx, ref, params["service"])
    deployment, task_set = _one(ctx, ref, stored, params["primaryTaskSet"])
    if task_sets.status_of(deployment) == task_sets.DRAINING:
        raise InvalidParameterException("A DRAINING task set cannot become the PRIMARY one.")
    set_id = str(task_set["id"])
    td = rollout.task_definition(ctx, str(task_set.get("taskDefinition") or ""))
    for other in stored.task_sets:
        if other is deployment:
            if task_sets.status_of(other) != task_sets.PRIMARY:
                external.set_task_set(ctx, other, status=task_sets.PRIMARY)
        elif task_sets.status_of(other) == task_sets.PRIMARY:
            external.set_task_set(ctx, other, status=task_sets.ACTIVE)
    # The PRIMARY task set is the baseline: the service takes its configuration.
    spec = {k: v for k, v in stored.spec.items() if k not in task_sets.SETTINGS}
    spec.update({k: task_set[k] for k in task_sets.SETTINGS if task_set.get(k)})
    spec["taskDefinition"] = task_set["taskDefinition"]
    external.write_spec(ctx, ref, stored, spec)
    if td is not None:
        external.sync_primary_service(ctx, ref, stored, spec, set_id, td)
    return {"taskSet": _shown(ctx, ref, stored.name, set_id)}


# -- tags -----------------------------------------------------------------------------------


def _tag_target(ctx: RequestContext, arn: Arn) -> Object:
    parsed = arns.parse_task_set(str(arn))
    if parsed is None or parsed.region != ctx.region or parsed.account != ctx.account_id:
        raise TaskSetNotFoundException(NOT_FOUND)
    ref = resolve_cluster(ctx, parsed.cluster)
    stored = external.lookup(ctx, ref, parsed.service)
    deployment = _find(stored, parsed.id)
    if deployment is None:
        raise TaskSetNotFoundException(NOT_FOUND)
    return deployment


def read_tags(ctx: RequestContext, arn: Arn) -> tagging.Tags:
    notes = task_keys.annotations_of(_tag_target(ctx, arn))
    tags = task_keys.json_value(notes, task_keys.TAGS, [])
    return [dict(t) for t in tags if isinstance(t, Mapping)] if isinstance(tags, list) else []


def write_tags(ctx: RequestContext, arn: Arn, edit: tagging.TagEdit) -> None:
    deployment = _tag_target(ctx, arn)

    def change(current: Object) -> Object:
        notes = current["metadata"].setdefault("annotations", {})
        tags = task_keys.json_value(notes, task_keys.TAGS, [])
        notes[task_keys.TAGS] = task_keys.dump(edit(tags if isinstance(tags, list) else []))
        return current

    meta = deployment["metadata"]
    if store.modify(ctx, kinds.DEPLOYMENT, meta["name"], meta["namespace"], change) is None:
        raise TaskSetNotFoundException(NOT_FOUND)


tagging.taggable("task-set", read_tags, write_tags)
