"""What the API server refuses beyond names and labels, for the kinds the controllers run.

Messages follow the API server's ``<Kind>.<group> "<name>" is invalid: <field>: <detail>``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kecs import k8s_grammar
from kecs.backends import kinds
from kecs.backends.errors import Invalid
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory import labelsel

Object = dict[str, Any]

_WORKLOADS = (kinds.DEPLOYMENT, kinds.REPLICA_SET, kinds.DAEMON_SET)
#: Kinds whose names must be DNS-1123 labels rather than subdomains.
_LABEL_NAMED = frozenset({kinds.NAMESPACE, kinds.SERVICE})
_PERCENT = re.compile(r"^(\d+)%$")
_POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _fail(kind: ResourceKind, name: str, detail: str) -> Invalid:
    qualified = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
    return Invalid(f'{qualified} "{name}" is invalid: {detail}')


def _go_map(labels: dict[str, str]) -> str:
    inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(labels.items()))
    return f"map[string]string{{{inner}}}"


def validate_create(kind: ResourceKind, obj: Object) -> None:
    name = obj.get("metadata", {}).get("name", "")
    spec = obj.get("spec")
    if kind is kinds.POD:
        if not isinstance(spec, dict):
            raise _fail(kind, name, "spec.containers: Required value")
        _pod_spec(kind, name, spec, "spec")
    elif kind in _WORKLOADS:
        _workload(kind, name, spec if isinstance(spec, dict) else {})


def validate_update(kind: ResourceKind, old: Object, new: Object) -> None:
    validate_create(kind, new)
    name = new.get("metadata", {}).get("name", "")
    if kind in _WORKLOADS:
        if (old.get("spec") or {}).get("selector") != (new.get("spec") or {}).get("selector"):
            raise _fail(kind, name, "spec.selector: Invalid value: field is immutable")
    elif kind is kinds.POD and _pod_mutable_view(old["spec"]) != _pod_mutable_view(new["spec"]):
        raise _fail(kind, name, f"spec: Forbidden: {_POD_UPDATE_FORBIDDEN}")
    elif kind is kinds.POD:
        before = old["spec"].get("tolerations") or []
        after = new["spec"].get("tolerations") or []
        if any(t not in after for t in before):
            raise _fail(kind, name, f"spec.tolerations: Forbidden: {_POD_UPDATE_FORBIDDEN}")


def _pod_mutable_view(spec: Object) -> Object:
    view = {
        k: v
        for k, v in spec.items()
        if k not in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")
    }
    for field in ("containers", "initContainers"):
        if field in view:
            view[field] = [
                {k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c
                for c in view[field]
            ]
    return view


def _pod_spec(kind: ResourceKind, name: str, spec: Object, path: str) -> None:
    containers = spec.get("containers")
    if not containers or not isinstance(containers, list):
        raise _fail(kind, name, f"{path}.containers: Required value")
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(field) or ()):
            where = f"{path}.{field}[{index}].name"
            cname = container.get("name") if isinstance(container, dict) else None
            if not cname:
                raise _fail(kind, name, f"{where}: Required value")
            if not k8s_grammar.is_dns1123_label(cname):
                raise _fail(
                    kind, name, f'{where}: Invalid value: "{cname}": a lowercase RFC 1123 label'
                )
            if cname in seen:
                raise _fail(kind, name, f'{where}: Duplicate value: "{cname}"')
            seen.add(cname)
    policy = spec.get("restartPolicy", "Always")
    if policy not in ("Always", "OnFailure", "Never"):
        raise _fail(
            kind,
            name,
            f'{path}.restartPolicy: Unsupported value: "{policy}": supported values: '
            '"Always", "OnFailure", "Never"',
        )


def _workload(kind: ResourceKind, name: str, spec: Object) -> None:
    replicas = spec.get("replicas", 0)
    if not isinstance(replicas, int) or replicas < 0:
        raise _fail(
            kind,
            name,
            f"spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0",
        )
    selector = spec.get("selector")
    if selector is None:
        raise _fail(kind, name, "spec.selector: Required value")
    if labelsel.is_empty(selector):
        raise _fail(
            kind, name, f"spec.selector: Invalid value: empty selector is invalid for {kind.plural}"
        )
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not labelsel.matches(selector, labels):
        raise _fail(
            kind,
            name,
            f"spec.template.metadata.labels: Invalid value: {_go_map(labels)}: "
            "`selector` does not match template `labels`",
        )
    pod = template.get("spec")
    if not isinstance(pod, dict):
        raise _fail(kind, name, "spec.template.spec.containers: Required value")
    _pod_spec(kind, name, pod, "spec.template.spec")
    if pod.get("restartPolicy", "Always") != "Always":
        raise _fail(
            kind,
            name,
            f'spec.template.spec.restartPolicy: Unsupported value: "{pod["restartPolicy"]}": '
            'supported values: "Always"',
        )
    if kind is kinds.DEPLOYMENT:
        _strategy(kind, name, spec.get("strategy") or {}, "spec.strategy")
    elif kind is kinds.DAEMON_SET:
        _strategy(kind, name, spec.get("updateStrategy") or {}, "spec.updateStrategy")


def _strategy(kind: ResourceKind, name: str, strategy: Object, path: str) -> None:
    kind_name = strategy.get("type", "RollingUpdate")
    allowed = (
        ("RollingUpdate", "Recreate") if kind is kinds.DEPLOYMENT else ("RollingUpdate", "OnDelete")
    )
    if kind_name not in allowed:
        supported = ", ".join(f'"{a}"' for a in allowed)
        raise _fail(
            kind,
            name,
            f'{path}.type: Unsupported value: "{kind_name}": supported values: {supported}',
        )
    rolling = strategy.get("rollingUpdate")
    if kind_name != "RollingUpdate":
        if rolling is not None:
            raise _fail(
                kind,
                name,
                f"{path}.rollingUpdate: Forbidden: may not be specified when strategy `type` "
                f"is '{kind_name}'",
            )
        return
    rolling = rolling or {}
    values = {}
    absent: dict[str, int | str] = {"maxSurge": "25%", "maxUnavailable": "25%"}
    if kind is kinds.DAEMON_SET:
        absent = {"maxSurge": 0, "maxUnavailable": 1}
    for field in ("maxSurge", "maxUnavailable"):
        value = rolling.get(field, absent[field])
        values[field] = value
        percent = _PERCENT.match(value) if isinstance(value, str) else None
        if isinstance(value, bool) or not (
            (isinstance(value, int) and value >= 0) or percent is not None
        ):
            raise _fail(
                kind,
                name,
                f"{path}.rollingUpdate.{field}: Invalid value: {json.dumps(value)}: "
                "a valid percent string must be a numeric string followed by an ending '%'",
            )
        if field == "maxUnavailable" and percent is not None and int(percent.group(1)) > 100:
            raise _fail(
                kind,
                name,
                f"{path}.rollingUpdate.maxUnavailable: Invalid value: {json.dumps(value)}: "
                "must not be greater than 100%",
            )
    if _is_zero(values["maxSurge"]) and _is_zero(values["maxUnavailable"]):
        raise _fail(
            kind,
            name,
            f"{path}.rollingUpdate.maxUnavailable: Invalid value: "
            f"{json.dumps(values['maxUnavailable'])}: may not be 0 when `maxSurge` is 0",
        )


def _is_zero(value: object) -> bool:
    return value == 0 or value == "0%"


#: Label sets found valid (the pods of one workload or task definition share theirs).
_VALID_LABEL_SETS: dict[tuple[tuple[str, str], ...], None] = {}
_MAX_VALID_LABEL_SETS = 1024


def _validate_labels(kind: ResourceKind, name: str, labels: dict[str, str]) -> None:
    try:
        items = tuple(labels.items())
        known = items in _VALID_LABEL_SETS
    except TypeError:  # an unhashable value: the checks below reject it
        items, known = (), False
    if known:
        return
    for key, value in labels.items():
        if not k8s_grammar.is_qualified_name(key) or not k8s_grammar.is_label_value(value):
            raise Invalid(f'{kind.kind} "{name}" is invalid: metadata.labels: {key}={value}')
    if items:
        if len(_VALID_LABEL_SETS) >= _MAX_VALID_LABEL_SETS:
            # Shared by every backend (and thread): one atomic clear, not an eviction that
            # two threads could race on.
            _VALID_LABEL_SETS.clear()
        _VALID_LABEL_SETS[items] = None


def validate_meta(kind: ResourceKind, obj: Object) -> None:
    """Names, labels, annotation size and finalizer names, for every kind."""
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    legal = (
        k8s_grammar.is_dns1123_label(name)
        if kind in _LABEL_NAMED
        else k8s_grammar.is_dns1123_subdomain(name)
    )
    if not legal:
        raise Invalid(f'{kind.kind} "{name}" is invalid: metadata.name: Invalid value')
    labels = meta.get("labels")
    if labels:
        _validate_labels(kind, name, labels)
    annotations = meta.get("annotations") or {}
    # UTF-8 bytes; an ASCII string (the usual annotation) has as many as characters.
    size = 0
    for key, value in annotations.items():  # a loop: no generator frame per annotation
        size += len(key) + (len(value) if value.isascii() else len(value.encode()))
    if size > k8s_grammar.ANNOTATIONS_MAX_BYTES:
        raise Invalid(f'{kind.kind} "{name}" is invalid: metadata.annotations: Too long')
    finalizers = meta.get("finalizers") or ()
    for finalizer in finalizers:
        if not isinstance(finalizer, str) or not k8s_grammar.is_qualified_name(finalizer):
            raise Invalid(
                f'{kind.kind} "{name}" is invalid: metadata.finalizers: Invalid value: '
                f'"{finalizer}": name part must consist of alphanumeric characters'
            )
