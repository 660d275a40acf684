"""ListTaskDefinitions and ListTaskDefinitionFamilies, paged with opaque tokens.

Both read only the family records (one small ConfigMap per family), never the revisions'
PodTemplates. A token names the last item returned, so a page continues after it even if
revisions were registered or deregistered in between.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from kecs import arns
from kecs.errors import InvalidParameterException
from kecs.operations import paging
from kecs.operations.taskdefs.store import CODE, TaskDefinitionStore, revisions_with


def list_task_definitions(store: TaskDefinitionStore, params: dict[str, Any]) -> dict[str, Any]:
    limit = paging.page_size(params)
    status = params.get("status") or "ACTIVE"
    letter = CODE.get(status)
    if letter is None:
        raise InvalidParameterException(
            f"Invalid status '{status}'. Valid values are ACTIVE, INACTIVE, DELETE_IN_PROGRESS."
        )
    descending = params.get("sort") == "DESC"
    after: list[Any] | None = None
    if params.get("nextToken"):
        after = paging.decode_token(params["nextToken"], str, int)
    prefix = params.get("familyPrefix")
    if prefix:
        # AWS treats familyPrefix as the exact family name here.
        record = store.record(prefix)
        families = [(prefix, record["data"]["revisions"])] if record is not None else []
    elif after is None:
        families = store.families()
    else:
        start = after[0]
        families = store.families(
            (lambda f, _: f <= start) if descending else (lambda f, _: f >= start)
        )
    families.sort(reverse=descending)

    def positions() -> Iterator[tuple[str, int]]:
        for family, statuses in families:
            revisions = revisions_with(statuses, letter, descending)
            if after is not None and family == after[0]:
                last = after[1]
                revisions = (r for r in revisions if (r < last if descending else r > last))
            for revision in revisions:
                yield family, revision

    page = list(itertools.islice(positions(), limit + 1))
    result: dict[str, Any] = {
        "taskDefinitionArns": [
            arns.task_definition(store.region, store.account, family, revision)
            for family, revision in page[:limit]
        ]
    }
    if len(page) > limit:
        result["nextToken"] = paging.encode_token(*page[limit - 1])
    return result


def list_families(store: TaskDefinitionStore, params: dict[str, Any]) -> dict[str, Any]:
    limit = paging.page_size(params)
    status = params.get("status") or "ACTIVE"
    if status not in ("ACTIVE", "INACTIVE", "ALL"):
        raise InvalidParameterException(
            f"Invalid status '{status}'. Valid values are ACTIVE, INACTIVE, ALL."
        )
    after = paging.decode_token(params["nextToken"], str)[0] if params.get("nextToken") else None
    prefix = params.get("familyPrefix") or ""
    active = CODE["ACTIVE"]

    def wanted(family: str, statuses: str) -> bool:
        if not family.startswith(prefix) or (after is not None and family <= after):
            return False
        if status == "ALL":
            return True
        return (active in statuses) == (status == "ACTIVE")

    families = sorted(family for family, _ in store.families(wanted))
    result: dict[str, Any] = {"families": families[:limit]}
    if len(families) > limit:
        result["nextToken"] = paging.encode_token(families[limit - 1])
    return result
