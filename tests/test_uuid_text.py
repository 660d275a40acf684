"""kecs.uuid_text writes what ``str(uuid.UUID(...))`` writes."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from kecs import uuid_text

BITS = st.integers(min_value=0, max_value=2**128 - 1)


@given(BITS)
def test_uuid4_is_the_version_4_uuid_of_its_bits(bits: int) -> None:
    assert uuid_text.uuid4(bits) == str(uuid.UUID(int=bits, version=4))


@given(BITS)
def test_dashed_is_the_uuid_of_its_hex_digits(bits: int) -> None:
    digits = f"{bits:032x}"
    assert uuid_text.dashed(digits) == str(uuid.UUID(hex=digits))
