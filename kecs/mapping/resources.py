"""CPU, memory, storage and accelerator amounts: ECS units -> Kubernetes quantities.

- CPU: 1024 ECS units = 1 vCPU = ``1000m``; ``units * 1000 / 1024`` millicores, rounded up
  to a whole millicore (exact, and round-tripping, for multiples of 128 units: 256 -> 250m).
- Memory: ECS container values are MiB -> ``"<n>Mi"``.
- Task-level strings: cpu ``"1024"``, ``"1 vCPU"``, ``"1vCPU"``, ``".25 vcpu"``; memory
  ``"2048"`` (MiB), ``"2GB"``, ``"2 GB"``, ``"0.5 GB"`` (GB means GiB, as ECS reads it), also
  ``MB``/``MiB``/``GiB``.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal, InvalidOperation

CPU_UNITS_PER_VCPU = 1024
#: Amounts above this are not plausible ECS values (and overflow some Kubernetes fields).
MAX_AMOUNT = 2**31 - 1

_CPU_TEXT = re.compile(r"\s*(\d*\.?\d+|\d+\.)\s*(vcpus?)?\s*", re.IGNORECASE)
_MEMORY_TEXT = re.compile(r"\s*(\d*\.?\d+|\d+\.)\s*(gb|gib|mb|mib)?\s*", re.IGNORECASE)


def cpu_millicores(units: int) -> int:
    """ECS CPU units -> millicores, rounded up so a reservation is never understated."""
    return math.ceil(units * 1000 / CPU_UNITS_PER_VCPU)


def cpu_units(millicores: int) -> int:
    """Millicores -> ECS CPU units (rounded down; inverse of :func:`cpu_millicores` when exact)."""
    return millicores * CPU_UNITS_PER_VCPU // 1000


def cpu_quantity(millicores: int) -> str:
    """``1000`` -> ``"1"``, ``250`` -> ``"250m"``."""
    if millicores % 1000 == 0:
        return str(millicores // 1000)
    return f"{millicores}m"


def mib_quantity(mib: int) -> str:
    return f"{mib}Mi"


def gib_quantity(gib: int) -> str:
    return f"{gib}Gi"


def _decimal(number: str) -> Decimal | None:
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@functools.lru_cache(maxsize=1024)
def parse_task_cpu(value: str) -> int | None:
    """A task-level ``cpu`` string -> CPU units, or ``None`` when it is not one."""
    match = _CPU_TEXT.fullmatch(value)
    if match is None:
        return None
    number = _decimal(match.group(1))
    if number is None:
        return None
    units = number * CPU_UNITS_PER_VCPU if match.group(2) else number
    if units != units.to_integral_value() or not 0 < units <= MAX_AMOUNT:
        return None
    return int(units)


@functools.lru_cache(maxsize=1024)
def parse_task_memory(value: str) -> int | None:
    """A task-level ``memory`` string -> MiB, or ``None`` when it is not one."""
    match = _MEMORY_TEXT.fullmatch(value)
    if match is None:
        return None
    number = _decimal(match.group(1))
    if number is None:
        return None
    unit = (match.group(2) or "mib").lower()
    mib = number * 1024 if unit in ("gb", "gib") else number
    if mib != mib.to_integral_value() or not 0 < mib <= MAX_AMOUNT:
        return None
    return int(mib)


def plausible(amount: int | None) -> bool:
    """A positive amount Kubernetes can hold (ECS also uses 0 for "not set")."""
    return amount is not None and 0 < amount <= MAX_AMOUNT


def parse_count(value: str | None) -> int | None:
    """A resourceRequirements ``value`` (GPU count, ...) -> a positive integer, or ``None``."""
    if value is None or not value.strip().isdigit():
        return None
    count = int(value.strip())
    return count if plausible(count) else None
