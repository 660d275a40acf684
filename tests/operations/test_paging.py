"""kecs.operations.paging: the one maxResults / nextToken implementation every List* uses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kecs.errors import InvalidParameterException
from kecs.operations import paging


@given(st.lists(st.one_of(st.text(), st.integers()), min_size=1, max_size=3))
def test_tokens_round_trip(position: list[str | int]) -> None:
    shape = tuple(type(v) for v in position)
    assert paging.decode_token(paging.encode_token(*position), *shape) == position


@pytest.mark.parametrize(
    ("token", "shape"),
    [
        ("", (str,)),
        ("not base64!", (str,)),
        (paging.encode_token(1), (str,)),
        (paging.encode_token("a"), (str, int)),
        (paging.encode_token("a", "b"), (str,)),
    ],
)
def test_malformed_tokens_are_invalid_parameters(token: str, shape: tuple[type, ...]) -> None:
    with pytest.raises(InvalidParameterException, match="nextToken is not valid"):
        paging.decode_token(token, *shape)


def test_page_size() -> None:
    assert paging.page_size({}) == 100
    assert paging.page_size({}, default=10) == 10
    assert paging.page_size({"maxResults": 7}, maximum=10) == 7
    for bad in (0, 11):
        with pytest.raises(InvalidParameterException, match=f"but was {bad}"):
            paging.page_size({"maxResults": bad}, maximum=10)


def test_resume_name() -> None:
    assert paging.resume_name({}) is None
    assert paging.resume_name({"nextToken": paging.encode_token("arn:x")}) == "arn:x"
