"""Kubernetes resource quantities (``"250m"``, ``"1.5"``, ``"512Mi"``, ``"1e3"``) as integers.

Every quantity becomes an integer number of thousandths (its *milli value*, rounded up as
``Quantity.MilliValue()`` does), so CPU, memory, pods and extended resources compare alike.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation

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
_CACHE: dict[str, int] = {}


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


def resource_map(resources: dict[str, object] | None) -> dict[str, int]:
    """``{"cpu": "250m", ...}`` -> ``{"cpu": 250, ...}`` (milli values)."""
    if not resources:
        return {}
    return {name: milli(q) for name, q in resources.items() if isinstance(q, str | int | float)}
