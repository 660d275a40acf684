"""Task-level ``cpu`` and ``memory``: the spellings AWS accepts and the Fargate sizes.

AWS accepts CPU units (``"1024"``) or vCPUs (``"1 vCPU"``, ``"0.25 vcpu"``, ``".25 vcpu"``)
and memory in MiB (``"2048"``) or GB (``"2GB"``, ``"2 GB"``), and returns both as plain unit
strings (``"256"``, ``"2048"``).
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation

from kecs.errors import ClientException

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_CPU = re.compile(rf"\s*{_NUMBER}\s*(vcpu)?\s*", re.IGNORECASE)
_MEMORY = re.compile(rf"\s*{_NUMBER}\s*(gb)?\s*", re.IGNORECASE)

#: Task CPU units -> the task memory sizes (MiB) Fargate offers with them.
FARGATE_SIZES: dict[int, frozenset[int]] = {
    256: frozenset({512, 1024, 2048}),
    512: frozenset(range(1024, 4096 + 1, 1024)),
    1024: frozenset(range(2048, 8192 + 1, 1024)),
    2048: frozenset(range(4096, 16384 + 1, 1024)),
    4096: frozenset(range(8192, 30720 + 1, 1024)),
    8192: frozenset(range(16384, 61440 + 1, 4096)),
    16384: frozenset(range(32768, 122880 + 1, 8192)),
}

#: Task-level CPU bounds on EC2 (0.125 to 192 vCPUs).
EC2_TASK_CPU_MIN = 128
EC2_TASK_CPU_MAX = 196608


def _scaled(number: str, scale: bool) -> int | None:
    """``number`` (times 1024 when ``scale``) as a whole number, or ``None``."""
    try:
        value = Decimal(number) * (1024 if scale else 1)
    except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
        return None
    if value != value.to_integral_value() or (not scale and "." in number):
        return None
    return int(value)


# Both parsers are pure functions of a short string that recurs (most definitions use a few
# sizes): remembered, bounded. A refused value raises every time (errors are not cached).
@functools.lru_cache(maxsize=256)
def parse_cpu(value: str) -> int:
    """Task CPU units from ``"1024"``, ``"1 vCPU"``, ``".25 vcpu"``...; ClientException if not."""
    match = _CPU.fullmatch(value)
    units = _scaled(match.group(1), bool(match.group(2))) if match else None
    if units is None or units <= 0:
        raise ClientException(
            f"Invalid 'cpu' setting for task: {value!r}. Specify CPU units (for example "
            "'1024') or vCPUs (for example '1 vCPU')."
        )
    return units


@functools.lru_cache(maxsize=256)
def parse_memory(value: str) -> int:
    """Task memory in MiB from ``"2048"``, ``"2GB"``, ``"2 GB"``...; ClientException if not."""
    match = _MEMORY.fullmatch(value)
    mib = _scaled(match.group(1), bool(match.group(2))) if match else None
    if mib is None or mib <= 0:
        raise ClientException(
            f"Invalid 'memory' setting for task: {value!r}. Specify MiB (for example "
            "'2048') or GB (for example '2GB')."
        )
    return mib


def is_fargate_size(cpu: int | None, memory: int | None) -> bool:
    return cpu is not None and memory is not None and memory in FARGATE_SIZES.get(cpu, ())
