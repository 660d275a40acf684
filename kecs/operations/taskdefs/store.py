"""Where task definitions live in the backend.

Everything is in the system namespace (``kecs-system``), so every client on the backend
sees the same task definitions, and the labels keep accounts and regions apart:

- one ``v1 PodTemplate`` per revision, named ``td-<family key>-<revision>``: ``template`` is
  the mapped pod template; annotations keep the exact ``taskDefinition`` JSON (what
  DescribeTaskDefinition returns), the tags and the mapping notes; labels carry ownership,
  family key, revision and status. ``family:revision`` -> name needs no lookup.
- one ``v1 ConfigMap`` per family, named ``td-<family key>`` (the *family record*): the
  exact family name and one status letter per revision ever allocated
  (``A``\\ CTIVE, ``I``\\ NACTIVE, ``D``\\ ELETE_IN_PROGRESS, ``X`` allocated but never
  stored). Its length is the revision counter: allocating appends a letter with an
  optimistic-concurrency update, so concurrent registrations never share a revision and a
  revision is never reused. It is also the index that listing and "latest ACTIVE" read,
  so neither has to copy every PodTemplate.

The PodTemplate is the truth for one revision; the record's letter follows it (written
right after, and re-synchronised on every deregister/delete of that revision).

Daemon task definitions are stored the same way (:data:`DAEMON_TASK_DEFINITIONS`: resources
``daemon-task-definition`` / ``daemon-task-definition-family``, names ``dtd-...``, the ARN in
``daemonTaskDefinitionArn``); a store is made for one :class:`Kind`.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import AlreadyExists, Conflict, NotFound
from kecs.errors import ClientException
from kecs.mapping import labels, names
from kecs.operations.cluster_store import ensure_system_namespace
from kecs.operations.context import RequestContext

RESOURCE = "task-definition"
FAMILY_RESOURCE = "task-definition-family"
NAMESPACE = labels.SYSTEM_NAMESPACE

ACTIVE, INACTIVE, DELETE_IN_PROGRESS = "ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"
DELETED = "DELETED"  # daemon task definitions only
CODE = {ACTIVE: "A", INACTIVE: "I", DELETE_IN_PROGRESS: "D", DELETED: "Z"}
UNUSED = "X"


class Kind(NamedTuple):
    """Which definitions a store keeps: their resource labels, name prefix and ARN member."""

    resource: str
    family_resource: str
    prefix: str
    arn_key: str


TASK_DEFINITIONS = Kind(RESOURCE, FAMILY_RESOURCE, "td", "taskDefinitionArn")
DAEMON_TASK_DEFINITIONS = Kind(
    "daemon-task-definition", "daemon-task-definition-family", "dtd", "daemonTaskDefinitionArn"
)

MAX_ATTEMPTS = 200
#: ECS's limit on the size of a task definition.
MAX_TASK_DEFINITION_BYTES = 64 * 1024
_T = TypeVar("_T")
#: The encoder of the stored ``taskDefinition`` JSON (made once, not per ``json.dumps``).
_COMPACT = json.JSONEncoder(separators=(",", ":"))


@functools.lru_cache(maxsize=4096)
def family_key(account: str, region: str, family: str) -> str:
    """A DNS-1123 label (and label value) unique per (account, region, exact family)."""
    return names.dns_label(family, account, region, family)


def record_name(key: str, prefix: str = "td") -> str:
    return f"{prefix}-{key}"


def template_name(key: str, revision: int, prefix: str = "td") -> str:
    return f"{prefix}-{key}-{revision}"


class Built(NamedTuple):
    """A revision ready to store: the definition, its pod template, tags and notes (JSON)."""

    definition: dict[str, Any]
    template: dict[str, Any]
    tags_json: str
    notes_json: str


class Revision(NamedTuple):
    """One stored revision: its PodTemplate and the ``taskDefinition`` it holds."""

    obj: Object
    task_definition: dict[str, Any]

    @property
    def tags(self) -> list[dict[str, str]]:
        raw = self.obj["metadata"].get("annotations", {}).get(labels.ANN_TAGS)
        return json.loads(raw) if raw else []


def retrying(action: Callable[[], _T]) -> _T:
    """``action()``, re-run while it loses optimistic-concurrency races."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return action()
        except (Conflict, AlreadyExists):
            if attempt >= 2:
                time.sleep(random.uniform(0, 0.001 * min(attempt, 10)))
    raise ClientException(
        "Too many concurrent attempts to create a new revision of the specified family."
    )


class TaskDefinitionStore:
    """The task definitions (or daemon task definitions) of one (backend, account, region)."""

    def __init__(self, ctx: RequestContext, kind: Kind = TASK_DEFINITIONS) -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.account = ctx.account_id
        self.region = ctx.region
        self.kind = kind

    def key(self, family: str) -> str:
        return family_key(self.account, self.region, family)

    def _record_name(self, family: str) -> str:
        return record_name(self.key(family), self.kind.prefix)

    def _template_name(self, family: str, revision: int) -> str:
        return template_name(self.key(family), revision, self.kind.prefix)

    # -- family records ---------------------------------------------------------------------

    def record(self, family: str, *, shared: bool = False) -> Object | None:
        """The family's record; ``shared``: the stored object itself, which the caller must
        not modify (a ``find`` by name, which the embedded backend answers without a copy)."""
        if shared:
            found = self.backend.find(
                kinds.CONFIG_MAP, NAMESPACE, names=[self._record_name(family)], shared=True
            )
            return found[0] if found else None
        try:
            return self.backend.get(kinds.CONFIG_MAP, self._record_name(family), NAMESPACE)
        except NotFound:
            return None

    def families(self, keep: Callable[[str, str], bool] | None = None) -> list[tuple[str, str]]:
        """``(family, status letters)`` of every family record that ``keep`` accepts."""
        found: list[tuple[str, str]] = []

        def collect(obj: Object) -> bool:
            # ``where`` sees each matching object once, before (and instead of) copying it:
            # reading the two strings there spares copying every record on every page.
            data = obj.get("data") or {}
            family, statuses = data.get("family"), data.get("revisions")
            if (
                isinstance(family, str)
                and isinstance(statuses, str)
                and (keep is None or keep(family, statuses))
            ):
                found.append((family, statuses))
            return False

        selector = labels.ownership(self.account, self.region, self.kind.family_resource)
        self.backend.list_all(kinds.CONFIG_MAP, NAMESPACE, selector=selector, where=collect)
        return found

    def allocate(self, family: str) -> int:
        """A new revision number of ``family``, marked ACTIVE in the family record."""

        def attempt() -> int:
            # Read shared (no copy): the update below is a new dict that shares the stored
            # record's unchanged parts, which ``update`` only reads; its resourceVersion is
            # the one read, so a concurrent allocation still makes it a Conflict.
            record = self.record(family, shared=True)
            if record is None:
                self._create(lambda: self._new_record(family))
                return 1
            statuses = record["data"]["revisions"] + CODE[ACTIVE]
            self.backend.update({**record, "data": {**record["data"], "revisions": statuses}})
            return len(statuses)

        return retrying(attempt)

    def set_letter(self, family: str, revision: int, letter: str) -> None:
        """Make the record's letter of ``revision`` ``letter`` (no write if it already is)."""

        def attempt() -> None:
            record = self.record(family)
            if record is None:
                return
            statuses: str = record["data"]["revisions"]
            if len(statuses) < revision or statuses[revision - 1] == letter:
                return
            record["data"]["revisions"] = statuses[: revision - 1] + letter + statuses[revision:]
            self.backend.update(record)

        retrying(attempt)

    def _new_record(self, family: str) -> Object:
        key = self.key(family)
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self._record_name(family),
                "namespace": NAMESPACE,
                "labels": {
                    **labels.ownership(self.account, self.region, self.kind.family_resource),
                    labels.FAMILY: key,
                },
                "annotations": {labels.ANN_FAMILY: family},
            },
            "data": {"family": family, "revisions": CODE[ACTIVE]},
        }

    # -- revisions --------------------------------------------------------------------------

    def register(self, family: str, make: Callable[[int], Built]) -> dict[str, Any]:
        """Allocate a revision of ``family`` and store what ``make(revision)`` builds.

        A registration that fails after its revision was allocated leaves that number unused
        (never listed, never reused), as AWS never reuses one.
        """
        revision = self.allocate(family)
        try:
            for attempt in (1, 2):
                # What a failed attempt handed over is given up: each builds anew.
                built = make(revision)
                try:
                    self.create(
                        built.definition,
                        built.template,
                        tags_json=built.tags_json,
                        notes_json=built.notes_json,
                    )
                    break
                except NotFound:
                    if attempt == 2:
                        raise
                    # The system namespace went away after the allocation.
                    ensure_system_namespace(self.ctx)
        except BaseException:
            self.set_letter(family, revision, UNUSED)
            raise
        return built.definition

    def create(
        self,
        task_definition: dict[str, Any],
        template: dict[str, Any],
        *,
        tags_json: str,
        notes_json: str,
    ) -> None:
        """Store one revision, handing ``template`` over to the backend (``NotFound`` if the
        system namespace does not exist)."""
        family, revision = task_definition["family"], task_definition["revision"]
        key = self.key(family)
        td_json = _COMPACT.encode(task_definition)
        if len(td_json) > MAX_TASK_DEFINITION_BYTES:
            # Also keeps the annotations well inside Kubernetes' 256 KiB.
            raise ClientException(
                f"The task definition is {len(td_json)} bytes; the maximum size of a task "
                f"definition is {MAX_TASK_DEFINITION_BYTES // 1024} KiB."
            )
        # Handed over: every dict in it is new (``labels.ownership`` is spread into a new
        # one; ``to_pod_template`` builds its template from new dicts and lists, sharing
        # nothing with the definition, which tests check), and nothing here keeps it.
        created = self.backend.create(
            {
                "apiVersion": "v1",
                "kind": "PodTemplate",
                "metadata": {
                    "name": self._template_name(family, revision),
                    "namespace": NAMESPACE,
                    "labels": {
                        **labels.ownership(self.account, self.region, self.kind.resource),
                        labels.FAMILY: key,
                        labels.REVISION: str(revision),
                        labels.STATUS: task_definition["status"],
                    },
                    "annotations": {
                        labels.ANN_FAMILY: family,
                        labels.ANN_TASK_DEFINITION_ARN: task_definition[self.kind.arn_key],
                        labels.ANN_TASK_DEFINITION: td_json,
                        labels.ANN_TAGS: tags_json,
                        labels.ANN_NOTES: notes_json,
                    },
                },
                "template": template,
            },
            shared=True,  # only read (remembered: never changed)
            handed_over=True,
        )
        # A describe or RunTask that follows on this context need not read it whole again.
        self._remember(Revision(created, task_definition))

    def get(self, family: str, revision: int) -> Revision | None:
        try:
            obj = self.backend.get(
                kinds.POD_TEMPLATE, self._template_name(family, revision), NAMESPACE
            )
        except NotFound:
            return None
        return Revision(obj, json.loads(obj["metadata"]["annotations"][labels.ANN_TASK_DEFINITION]))

    def read(self, family: str, revision: int, *, template: bool = True) -> Revision | None:
        """:meth:`get` for callers that change nothing: the result may be shared with other
        readers of this context, so it must not be modified.

        One metadata read per call (the revision's ``uid`` and ``resourceVersion``, which
        every write changes) decides whether the revision remembered in the context's memo
        is still the stored one; only otherwise is it read whole (and remembered).
        ``template=False``: the caller needs only the ``taskDefinition`` and tags, which the
        metadata already holds, so a revision not remembered is not read whole either
        (``obj`` is then a ``PartialObjectMetadata``).
        """
        name = self._template_name(family, revision)
        try:
            meta = self.backend.get_metadata(kinds.POD_TEMPLATE, name, NAMESPACE, shared=True)[
                "metadata"
            ]
        except NotFound:
            return None
        version = (meta.get("uid"), meta.get("resourceVersion"))
        remembered: Revision | None = self.ctx.memo.get(("revision", name), version)
        if remembered is not None:
            return remembered
        if not template:
            annotations = meta.get("annotations") or {}
            return Revision({"metadata": meta}, json.loads(annotations[labels.ANN_TASK_DEFINITION]))
        found = self.get(family, revision)
        if found is not None:
            self._remember(found)
        return found

    def _remember(self, revision: Revision) -> None:
        meta = revision.obj["metadata"]
        version = (meta.get("uid"), meta.get("resourceVersion"))
        self.ctx.memo.put(("revision", meta["name"]), version, revision)

    def latest(
        self, family: str, status: str = ACTIVE, *, shared: bool = False, template: bool = True
    ) -> Revision | None:
        """The newest revision of ``family`` in ``status``; ``shared``: through :meth:`read`
        (a result the caller must not modify)."""
        # Only one string of the record is read: it need not be copied.
        record = self.record(family, shared=True)
        if record is None:
            return None
        statuses: str = record["data"]["revisions"]
        letter = CODE[status]
        index = statuses.rfind(letter)
        while index >= 0:
            found = (
                self.read(family, index + 1, template=template)
                if shared
                else self.get(family, index + 1)
            )
            if found is not None and found.task_definition["status"] == status:
                return found
            index = statuses.rfind(letter, 0, index)
        return None

    def transition(
        self, family: str, revision: int, source: str, target: str, stamp: str | None
    ) -> Revision | None:
        """Move the revision from ``source`` to ``target`` status, stamping ``stamp`` now.

        A revision in any other status is left as it is. Returns the revision as stored
        afterwards (``None`` if it does not exist).
        """

        def attempt() -> Revision | None:
            found = self.get(family, revision)
            if found is None or found.task_definition["status"] != source:
                return found
            obj, td = found
            td["status"] = target
            if stamp is not None:
                td[stamp] = self.ctx.now().timestamp()
            meta = obj["metadata"]
            meta["labels"][labels.STATUS] = target
            meta["annotations"][labels.ANN_TASK_DEFINITION] = json.dumps(td, separators=(",", ":"))
            return Revision(self.backend.update(obj), td)

        result = retrying(attempt)
        if result is not None:
            self.set_letter(family, revision, CODE[result.task_definition["status"]])
        return result

    def edit_tags(
        self,
        family: str,
        revision: int,
        edit: Callable[[list[dict[str, str]]], list[dict[str, str]]],
    ) -> bool:
        """Apply ``edit`` to the revision's tags atomically; ``False`` if it does not exist."""

        def apply(obj: Object) -> Object:
            annotations = obj["metadata"].setdefault("annotations", {})
            current = json.loads(annotations.get(labels.ANN_TAGS) or "[]")
            annotations[labels.ANN_TAGS] = json.dumps(edit(current))
            return obj

        try:
            self.backend.modify(
                kinds.POD_TEMPLATE, self._template_name(family, revision), apply, NAMESPACE
            )
        except NotFound:
            return False
        return True

    # -- helpers ----------------------------------------------------------------------------

    def _create(self, build: Callable[[], Object]) -> Object:
        """Create what ``build()`` makes, handed over to the backend (a new object the caller
        never touches again); the result is only read (shared: never change it).

        The system namespace is made on first use; the retry must still race fairly, and
        hands over a second object built anew (the first was given up).
        """
        try:
            return self.backend.create(build(), shared=True, handed_over=True)
        except NotFound:
            ensure_system_namespace(self.ctx)
            return self.backend.create(build(), shared=True, handed_over=True)


def revisions_with(statuses: str, letter: str, descending: bool) -> Iterator[int]:
    """Revision numbers whose letter in ``statuses`` is ``letter``, in the order asked."""
    if descending:
        index = statuses.rfind(letter)
        while index >= 0:
            yield index + 1
            index = statuses.rfind(letter, 0, index)
    else:
        index = statuses.find(letter)
        while index >= 0:
            yield index + 1
            index = statuses.find(letter, index + 1)
