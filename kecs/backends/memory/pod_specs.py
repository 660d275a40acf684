"""Pod specs the embedded API server has stored, remembered so equal ones cost less.

The pods of one workload or task definition are written from equal specs. Two things follow:

- **Shared parts.** Equal spec parts (containers, init containers, affinity, tolerations,
  volumes) are stored once and shared by every pod that has them: less memory, and far fewer
  objects for CPython's cyclic garbage collector to walk as the cluster grows. Safe because
  the API server never changes a stored object in place.
- **Remembered specs.** A spec written before, compared as ``marshal`` bytes (so ``1``,
  ``1.0`` and ``True`` stay different, and key order counts), was defaulted and validated
  then and has the same QoS class now: what it became is reused instead of worked out again.

Both are bounded (the oldest entries go first) and belong to one API server.
"""

from __future__ import annotations

import marshal
from typing import Any

Object = dict[str, Any]

#: Pod spec fields that are usually equal across the pods of one workload or task definition.
SHARED_FIELDS = ("containers", "initContainers", "affinity", "tolerations", "volumes")
MAX_SHARED_PARTS = 4096
#: How many distinct pod specs (as written) are remembered.
MAX_SPECS = 1024


class PodSpecs:
    def __init__(self) -> None:
        #: (field, marshalled value) -> the one stored value pods share
        self._parts: dict[tuple[str, bytes], Any] = {}
        #: spec as written (marshalled) -> the stored spec it became and its QoS class
        self._specs: dict[bytes, tuple[Object, str]] = {}

    def __len__(self) -> int:
        """How many specs are remembered."""
        return len(self._specs)

    def recall(self, pod: Object) -> tuple[bytes | None, tuple[Object, str] | None]:
        """Look ``pod``'s spec up. When it was written before, what it became is put in place
        (a new dict sharing every part). Returns the spec's key (``None``: it cannot be
        remembered) and, if found, the stored spec and QoS class."""
        spec = pod.get("spec")
        if not isinstance(spec, dict):
            return None, None
        try:
            key = marshal.dumps(spec, 2)
        except ValueError:  # something JSON never holds
            return None, None
        found = self._specs.get(key)
        if found is not None:
            pod["spec"] = dict(found[0])
        return key, found

    def remember(self, key: bytes, pod: Object) -> None:
        """Remember what the spec written as ``key`` became (``pod`` as stored)."""
        known = self._specs
        if len(known) >= MAX_SPECS:
            del known[next(iter(known))]
        known[key] = (pod["spec"], pod["status"]["qosClass"])

    def share_parts(self, pod: Object) -> None:
        """Replace the parts of ``pod``'s (new, not yet stored) spec that equal stored ones
        with those."""
        spec = pod.get("spec")
        if not isinstance(spec, dict):
            return
        known = self._parts
        for field in SHARED_FIELDS:
            value = spec.get(field)
            if not value or not isinstance(value, (dict, list)):
                continue
            try:
                key = (field, marshal.dumps(value, 2))
            except ValueError:
                continue
            found = known.get(key)
            if found is None:
                if len(known) >= MAX_SHARED_PARTS:
                    del known[next(iter(known))]
                known[key] = value
            else:
                spec[field] = found
