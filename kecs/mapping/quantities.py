"""Kubernetes resource quantities (``"250m"``, ``"1.5"``, ``"512Mi"``, ``"1e3"``) as numbers.

What the container instance mapping needs to turn a Node's capacity and its pods' requests
into ECS units (CPU units, MiB).
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


def milli(value: Any) -> int:
    """The quantity in thousandths, rounded up as Kubernetes' ``MilliValue`` does; 0 if invalid."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int | float):
        return int((Decimal(str(value)) * 1000).to_integral_value(ROUND_CEILING))
    match = _QUANTITY.match(str(value).strip())
    if match is None:
        return 0
    number, exponent, suffix = match.groups()
    try:
        amount = Decimal(number) * (
            Decimal(f"1{exponent}") if exponent else _SUFFIXES[suffix or ""]
        )
    except InvalidOperation:
        return 0
    return int((amount * 1000).to_integral_value(ROUND_CEILING))


def _add(total: dict[str, int], resources: Mapping[str, Any] | None) -> None:
    for name, value in (resources or {}).items():
        total[name] = total.get(name, 0) + milli(value)


def pod_requests(spec: Mapping[str, Any]) -> dict[str, int]:
    """A pod's effective requests (milli values), as the scheduler counts them.

    Regular containers and native sidecars add up; a plain init container runs alone (with
    the sidecars started before it), so only its peak counts; limits stand in for missing
    requests, as the API server defaults them.
    """

    def requests(container: Mapping[str, Any]) -> dict[str, Any]:
        resources = container.get("resources") or {}
        return {**(resources.get("limits") or {}), **(resources.get("requests") or {})}

    regular: dict[str, int] = {}
    for container in spec.get("containers") or ():
        _add(regular, requests(container))
    sidecars: dict[str, int] = {}
    peak: dict[str, int] = {}
    for container in spec.get("initContainers") or ():
        own: dict[str, int] = {}
        _add(own, requests(container))
        if container.get("restartPolicy") == "Always":
            for name, value in own.items():
                sidecars[name] = sidecars.get(name, 0) + value
            candidate = dict(sidecars)
        else:
            candidate = dict(sidecars)
            for name, value in own.items():
                candidate[name] = candidate.get(name, 0) + value
        for name, value in candidate.items():
            peak[name] = max(peak.get(name, 0), value)
    total = dict(regular)
    for name, value in sidecars.items():
        total[name] = total.get(name, 0) + value
    for name, value in peak.items():
        total[name] = max(total.get(name, 0), value)
    _add(total, spec.get("overhead"))
    return total
