"""Kubernetes resource quantities (``"250m"``, ``"1.5"``, ``"512Mi"``, ``"1e3"``), stdlib only.

Shared by the mapping (container instance resources from a Node and its pods) and the embedded
backend (the scheduler's resource fit), so both count a pod's requests the same way. Every
quantity becomes an integer number of thousandths, its *milli value*, rounded up as
``Quantity.MilliValue()`` does, so CPU, memory, pods and extended resources compare alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$"
)
# Quantities repeat (every pod of a template asks the same); parsing dominates otherwise.
_CACHE: dict[str, int] = {}
#: What a quantity may be written as (one tuple: the fastest ``isinstance`` check).
_SCALARS = (str, int, float)


def milli(value: str | int | float) -> int:
    """The milli value of a quantity; :class:`ValueError` when it is not one."""
    if isinstance(value, bool):
        raise ValueError(f"quantities must be strings or numbers, not {value!r}")
    if isinstance(value, int | float):
        return int((Decimal(str(value)) * 1000).to_integral_value(ROUND_CEILING))
    cached = _CACHE.get(value)
    if cached is not None:
        return cached
    match = _QUANTITY.match(value.strip())
    if match is None:
        raise ValueError(f"quantities must match the regular expression: {value!r}")
    number, exponent, suffix = match.groups()
    try:
        amount = Decimal(number) * (
            Decimal(f"1{exponent}") if exponent else _SUFFIXES[suffix or ""]
        )
    except InvalidOperation:
        raise ValueError(f"invalid quantity {value!r}") from None
    result = int((amount * 1000).to_integral_value(ROUND_CEILING))
    if len(_CACHE) < 4096:
        _CACHE[value] = result
    return result


def milli_or_zero(value: Any) -> int:
    """:func:`milli`, with 0 for a missing or malformed quantity (what a reader can't use)."""
    if not isinstance(value, _SCALARS) or isinstance(value, bool):
        return 0
    try:
        return milli(value)
    except ValueError:
        return 0


def resource_map(resources: Mapping[str, Any] | None) -> dict[str, int]:
    """``{"cpu": "250m", ...}`` -> ``{"cpu": 250, ...}`` (milli values; bad ones skipped)."""
    if not resources:
        return {}
    try:
        # The common case (every value a valid quantity) in one pass: this runs per pod.
        return {n: milli(v) for n, v in resources.items() if isinstance(v, _SCALARS)}
    except ValueError:
        pass
    found: dict[str, int] = {}
    for name, value in resources.items():
        if isinstance(value, _SCALARS):
            try:
                found[name] = milli(value)
            except ValueError:
                continue
    return found


def _add(into: dict[str, int], values: Mapping[str, int]) -> None:
    for name, value in values.items():
        into[name] = into.get(name, 0) + value


def container_requests(container: Mapping[str, Any]) -> dict[str, int]:
    """A container's requests; limits stand in for missing ones, as the API server defaults."""
    resources = container.get("resources") or {}
    return resource_map({**(resources.get("limits") or {}), **(resources.get("requests") or {})})


def pod_requests(spec: Mapping[str, Any]) -> dict[str, int]:
    """A pod's effective requests (milli values), as the scheduler counts them.

    Regular containers and native sidecars add up; a plain init container runs alone (with
    the sidecars started before it), so only its peak counts; ``overhead`` is added.
    """
    regular: dict[str, int] = {}
    for container in spec.get("containers") or ():
        _add(regular, container_requests(container))
    sidecars: dict[str, int] = {}
    peak: dict[str, int] = {}
    for container in spec.get("initContainers") or ():
        own = container_requests(container)
        if container.get("restartPolicy") == "Always":
            _add(sidecars, own)
            candidate = dict(sidecars)
        else:
            candidate = dict(sidecars)
            _add(candidate, own)
        for name, value in candidate.items():
            peak[name] = max(peak.get(name, 0), value)
    total = dict(regular)
    _add(total, sidecars)
    for name, value in peak.items():
        total[name] = max(total.get(name, 0), value)
    _add(total, resource_map(spec.get("overhead")))
    return total
