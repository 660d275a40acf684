"""``kecs.render()``: an ECS task definition or service -> the Kubernetes objects kecs makes.

Input, as the AWS CLI shows or takes it:

- a task definition: ``aws ecs describe-task-definition`` output (``{"taskDefinition": ...}``),
  a ``register-task-definition --cli-input-json`` body, or the bare ``taskDefinition``;
- a service: a ``create-service --cli-input-json`` body (``{"serviceName": ..., ...}``) or
  ``{"service": ...}`` / a one-element ``{"services": [...]}``. Its ``taskDefinition`` is
  either the task definition itself (a JSON object in its place, a kecs extension) or the
  usual ``family[:revision]`` / ARN, resolved against ``task_definitions=``.

Output: :class:`Rendered`, whose ``objects`` are plain dicts ready for ``kubectl apply`` (names
as kecs would give them for the given account, region and cluster) and whose ``notes`` say
what did not map exactly. Built with the pure mapping functions only: no backend, no network.
Pods and workloads go through :mod:`kecs.mapping.task_wiring` as RunTask and CreateService
put them: the task role's ServiceAccount, Role and RoleBinding come first, then the workload
with its placement (affinity, topology spread, capacity providers), its Service, and the
discovery Services, load balancer Services and Ingresses of a service.
Two things differ from what kecs stores: kecs's bookkeeping annotations (the exact task
definition JSON, status) are left out, and so is the ``kecs.dev/task-record`` finalizer, which
on a cluster without kecs would keep pods from ever being deleted.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from kecs import arns
from kecs.client import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from kecs.mapping import labels, service_workload
from kecs.mapping.common import Note
from kecs.mapping.taskdef import to_pod_template
from kecs.operations.taskdefs.store import family_key, template_name
from kecs.render_objects import (
    World,
    pull_secret_notes,
    secret_notes,
    service_objects,
    task_pod_objects,
)

__all__ = ["KINDS", "Note", "RenderError", "Rendered", "render"]

#: What a task definition can be rendered as (``deployment``/``daemonset`` include the
#: Service for the port mappings, as for an ECS service of one task).
KINDS = ("podtemplate", "pod", "deployment", "daemonset")
_WORKLOAD_KIND = {service_workload.REPLICA: "deployment", service_workload.DAEMON: "daemonset"}


class RenderError(ValueError):
    """The input is not something ``render`` understands; the message says what was expected."""


@attrs.frozen
class Rendered:
    """Kubernetes objects made from one ECS definition, and notes on what did not map exactly."""

    source: str  #: e.g. ``"task definition web:3"`` or ``"service web"``
    objects: tuple[dict[str, Any], ...]
    notes: tuple[Note, ...]

    def yaml(self, *, notes: bool = True) -> str:
        """The objects as a YAML stream (needs PyYAML), notes as trailing comments."""
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - exercised without the extra
            raise ImportError(
                "Rendered.yaml() needs PyYAML: pip install 'kecs[yaml]' (or use .json())"
            ) from exc
        text = yaml.dump_all(
            self.objects,
            Dumper=_plain_dumper(yaml),
            sort_keys=False,
            default_flow_style=False,
            width=1_000_000,
        )
        return f"# {self.source}\n{text}" + (self.notes_comment() if notes else "")

    def json(self, *, indent: int | None = 2) -> str:
        """One object as itself, several as a ``v1 List`` (what ``kubectl apply -f`` takes)."""
        return json.dumps(as_list(self.objects), indent=indent) + "\n"

    def notes_comment(self) -> str:
        """The notes as YAML comment lines (empty when everything mapped exactly)."""
        if not self.notes:
            return ""
        lines = [f"# Notes on {self.source}: what did not map exactly"]
        lines += [f"# - {_one_line(str(note))}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:
        rows = "\n".join(
            f"| {o['kind']} | `{o['metadata'].get('name', '')}` |" for o in self.objects
        )
        out = [f"**{self.source}**\n", "| kind | name |", "|---|---|", rows, ""]
        out += ["```yaml", self._text().rstrip(), "```", ""]
        if self.notes:
            out.append("Notes (what did not map exactly):\n")
            out += [f"- `{n.path}`: {n.message}" for n in self.notes]
        return "\n".join(out) + "\n"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(o['kind'])}</td>"
            f"<td><code>{html.escape(str(o['metadata'].get('name', '')))}</code></td></tr>"
            for o in self.objects
        )
        notes = "".join(
            f"<li><code>{html.escape(n.path)}</code>: {html.escape(n.message)}</li>"
            for n in self.notes
        )
        parts = [
            f"<div class='kecs-rendered'><strong>{html.escape(self.source)}</strong>",
            f"<table><tr><th>kind</th><th>name</th></tr>{rows}</table>",
            f"<details open><summary>manifests</summary><pre>{html.escape(self._text())}</pre>"
            "</details>",
        ]
        if notes:
            parts.append(f"<p>Notes (what did not map exactly):</p><ul>{notes}</ul>")
        return "".join(parts) + "</div>"

    def _text(self) -> str:
        try:
            return self.yaml(notes=False)
        except ImportError:
            return self.json()


def _plain_dumper(yaml: Any) -> Any:
    """PyYAML's safe dumper without anchors: objects may share parts (placement terms), and
    manifests read best (and diff best) with every value written out."""

    class Plain(yaml.SafeDumper):  # type: ignore[misc]
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return Plain


def as_list(objects: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    if len(objects) == 1:
        return objects[0]
    return {"apiVersion": "v1", "kind": "List", "items": list(objects)}


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- input ---------------------------------------------------------------------------------


def classify(document: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``("task-definition" | "service", the definition)`` for any accepted input shape."""
    if not isinstance(document, Mapping):
        raise RenderError("expected a JSON object holding a task definition or a service")
    if isinstance(document.get("service"), Mapping):
        return "service", dict(document["service"])
    services = document.get("services")
    if isinstance(services, list):
        if len(services) != 1 or not isinstance(services[0], Mapping):
            raise RenderError("'services' must hold exactly one service to render")
        return "service", dict(services[0])
    if "serviceName" in document:
        return "service", dict(document)
    if isinstance(document.get("taskDefinition"), Mapping):
        return "task-definition", dict(document["taskDefinition"])
    if "containerDefinitions" in document or "family" in document:
        return "task-definition", dict(document)
    raise RenderError(
        "not an ECS task definition or service: expected describe-task-definition output "
        "({'taskDefinition': ...}), a register-task-definition input (with 'family' and "
        "'containerDefinitions'), or a create-service input (with 'serviceName')"
    )


def _family(task_definition: Mapping[str, Any]) -> str:
    family = task_definition.get("family")
    if not isinstance(family, str) or not family:
        raise RenderError("the task definition has no 'family'")
    return family


def _revision(task_definition: Mapping[str, Any]) -> int:
    revision = task_definition.get("revision")
    return revision if isinstance(revision, int) and revision > 0 else 1


def _resolve(
    reference: str, task_definitions: Iterable[Mapping[str, Any]], service_name: str
) -> dict[str, Any]:
    """The task definition a service names (``family``, ``family:revision`` or an ARN)."""
    wanted = arns.name_from(reference, "task-definition")
    family, _, revision = wanted.partition(":")
    candidates = [dict(td) for td in task_definitions if td.get("family") == family]
    if revision:
        candidates = [td for td in candidates if str(_revision(td)) == revision]
    if not candidates:
        raise RenderError(
            f"service {service_name!r} runs task definition {reference!r}, which was not "
            "given: pass it too (CLI: --task-definition FILE, or as another input file), "
            "or put the task definition object in the service's 'taskDefinition'"
        )
    return max(candidates, key=_revision)


# -- rendering -----------------------------------------------------------------------------


def render(
    definition: Mapping[str, Any],
    *,
    kinds: Sequence[str] | None = None,
    namespace: str = "default",
    region: str | None = None,
    account_id: str | None = None,
    cluster: str = "default",
    task_definitions: Iterable[Mapping[str, Any]] = (),
) -> Rendered:
    """The Kubernetes objects kecs makes of a task definition or service (module doc).

    ``kinds`` (from :data:`KINDS`) defaults to ``["podtemplate"]`` for a task definition and
    to the service's own workload (Deployment or DaemonSet, plus its Service) for a service.
    ``region`` and ``account_id`` default to those of the definition's ARN, if it has one,
    else ``us-east-1`` and ``000000000000``. ``task_definitions`` resolves a service's
    ``family[:revision]`` reference (the highest revision given wins when none is named).
    """
    what, body = classify(definition)
    unknown = [k for k in kinds or () if k not in KINDS]
    if unknown:
        raise RenderError(f"unknown kind(s) {unknown}; choose from {list(KINDS)}")
    own = _own_arn(body)
    world = World(
        namespace=namespace,
        region=region or (own.region if own else DEFAULT_REGION),
        account=account_id or (own.account if own else DEFAULT_ACCOUNT_ID),
        cluster=cluster,
    )
    if what == "service":
        return _render_service(body, kinds, world, task_definitions)
    return _render_task_definition(body, kinds or ["podtemplate"], world)


def _own_arn(body: Mapping[str, Any]) -> arns.Arn | None:
    for key in ("taskDefinitionArn", "serviceArn", "clusterArn", "cluster"):
        value = body.get(key)
        parsed = arns.parse(value) if isinstance(value, str) else None
        if parsed is not None:
            return parsed
    return None


def _with_arn(task_definition: Mapping[str, Any], world: World) -> dict[str, Any]:
    td = dict(task_definition)
    if not isinstance(td.get("taskDefinitionArn"), str):
        td["taskDefinitionArn"] = arns.task_definition(
            world.region, world.account, _family(td), _revision(td)
        )
    td.setdefault("revision", _revision(td))
    return td


def _render_task_definition(
    task_definition: Mapping[str, Any], kinds: Sequence[str], world: World
) -> Rendered:
    td = _with_arn(task_definition, world)
    family, revision = _family(td), _revision(td)
    mapping = to_pod_template(td, region=world.region)
    notes = list(mapping.notes)
    objects: list[dict[str, Any]] = []
    for kind in dict.fromkeys(kinds):
        if kind == "podtemplate":
            objects.append(_pod_template(td, mapping.template, mapping.notes, world))
        elif kind == "pod":
            _add(objects, task_pod_objects(td, mapping.template, world, notes))
        else:
            strategy = "DAEMON" if kind == "daemonset" else "REPLICA"
            spec: dict[str, Any] = {"serviceName": family, "schedulingStrategy": strategy}
            if strategy == "REPLICA":
                spec["desiredCount"] = 1
            _add(objects, service_objects(spec, td, mapping.template, world, notes))
    notes += secret_notes(mapping.template)
    return Rendered(f"task definition {family}:{revision}", tuple(objects), _finish(notes, objects))


def _render_service(
    service: Mapping[str, Any],
    kinds: Sequence[str] | None,
    world: World,
    task_definitions: Iterable[Mapping[str, Any]],
) -> Rendered:
    name = service.get("serviceName")
    if not isinstance(name, str) or not name:
        raise RenderError("the service has no 'serviceName'")
    reference = service.get("taskDefinition")
    if isinstance(reference, Mapping):
        task_definition = dict(reference)
    elif isinstance(reference, str) and reference:
        task_definition = _resolve(reference, task_definitions, name)
    else:
        raise RenderError(f"service {name!r} has no 'taskDefinition'")
    cluster = service.get("cluster") or service.get("clusterArn")
    if isinstance(cluster, str) and cluster:
        world = attrs.evolve(world, cluster=arns.name_from(cluster, "cluster"))
    td = _with_arn(task_definition, world)
    spec = {k: v for k, v in service.items() if k not in ("cluster", "clusterArn")}
    spec["taskDefinition"] = td["taskDefinitionArn"]
    own = _WORKLOAD_KIND[service_workload.scheduling_strategy(spec)]
    wanted = list(dict.fromkeys(kinds or [own]))
    other = [k for k in wanted if k in _WORKLOAD_KIND.values() and k != own]
    if other:
        raise RenderError(f"service {name!r} renders as a {own}, not as {other[0]}")
    mapping = to_pod_template(td, region=world.region)
    notes = list(mapping.notes)
    objects: list[dict[str, Any]] = []
    for kind in wanted:
        if kind == "podtemplate":
            objects.append(_pod_template(td, mapping.template, mapping.notes, world))
        elif kind == "pod":
            _add(objects, task_pod_objects(td, mapping.template, world, notes))
        else:
            _add(objects, service_objects(spec, td, mapping.template, world, notes))
    notes += secret_notes(mapping.template)
    return Rendered(f"service {name}", tuple(objects), _finish(notes, objects))


def _pod_template(
    td: Mapping[str, Any], template: Mapping[str, Any], notes: Sequence[Note], world: World
) -> dict[str, Any]:
    family, revision = _family(td), _revision(td)
    key = family_key(world.account, world.region, family)
    annotations = {
        labels.ANN_FAMILY: family,
        labels.ANN_TASK_DEFINITION_ARN: str(td["taskDefinitionArn"]),
    }
    if notes:
        annotations[labels.ANN_NOTES] = json.dumps([str(n) for n in notes])
    return {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {
            "name": template_name(key, revision),
            "namespace": world.namespace,
            "labels": {
                **labels.ownership(world.account, world.region, "task-definition"),
                labels.FAMILY: key,
                labels.REVISION: str(revision),
            },
            "annotations": annotations,
        },
        "template": dict(template),
    }


def _add(objects: list[dict[str, Any]], new: Iterable[dict[str, Any]]) -> None:
    """Append ``new``, leaving out an object already there (the Service two workloads share)."""
    seen = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects}
    for obj in new:
        key = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key not in seen:
            seen.add(key)
            objects.append(obj)


def _finish(notes: list[Note], objects: list[dict[str, Any]]) -> tuple[Note, ...]:
    """Drop kecs's task-record finalizer (see the module doc) and say so once."""
    notes += pull_secret_notes(objects)
    dropped = False
    for obj in objects:
        for metadata in (obj["metadata"], obj.get("spec", {}).get("template", {}).get("metadata")):
            if metadata and labels.TASK_RECORD_FINALIZER in metadata.get("finalizers", ()):
                rest = [f for f in metadata["finalizers"] if f != labels.TASK_RECORD_FINALIZER]
                if rest:
                    metadata["finalizers"] = rest
                else:
                    del metadata["finalizers"]
                dropped = True
    if dropped:
        notes.append(
            Note(
                "metadata.finalizers",
                f"{labels.TASK_RECORD_FINALIZER} left out: it keeps a stopped task's pod for "
                "kecs, and without kecs nothing would remove it",
            )
        )
    return tuple(dict.fromkeys(notes))


def _make_module_callable() -> None:
    """``kecs.render`` may be this module (``import kecs.render``) or the function; both call."""
    import sys
    import types

    class CallableModule(types.ModuleType):
        def __call__(self, definition: Mapping[str, Any], **kwargs: Any) -> Rendered:
            return render(definition, **kwargs)

    sys.modules[__name__].__class__ = CallableModule


_make_module_callable()
