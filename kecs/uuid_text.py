"""UUIDs as text, without building ``uuid.UUID`` objects (hot paths make one per call).

Pure, stdlib-only, shared by every layer (like :mod:`kecs.arns`).
"""

from __future__ import annotations

#: The bits a version-4 UUID fixes: version nibble (4) and variant (RFC 4122, ``10``).
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def dashed(digits: str) -> str:
    """32 hex digits in the 8-4-4-4-12 form (``str(uuid.UUID(hex=digits))`` for lower-case
    digits)."""
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def uuid4(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))``."""
    return dashed("%032x" % ((bits & _UUID4_CLEAR) | _UUID4_SET))
