"""Label selectors: the parser/matcher itself, and selection through every backend."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kecs.backends import kinds
from kecs.backends.base import Backend
from kecs.backends.errors import Invalid
from kecs.backends.selectors import SelectorError, compile_selector, to_string
from tests.backends.contract import config_map, names

LABELS = {
    "app": "web",
    "tier": "frontend",
    "kecs.dev/cluster": "prod",
    "empty": "",
}

MATCHING = [
    # (selector, matches LABELS)
    (None, True),
    ("", True),
    ({}, True),
    ("app=web", True),
    ("app==web", True),
    ("app = web", True),
    ("app=db", False),
    ("app!=db", True),
    ("app!=web", False),
    ("missing!=x", True),  # != matches objects without the key, as in Kubernetes
    ("app", True),
    ("missing", False),
    ("!missing", True),
    ("!app", False),
    ("app in (web,db)", True),
    ("app in (db, cache)", False),
    ("app in ( web )", True),
    ("app notin (db,cache)", True),
    ("app notin (web)", False),
    ("missing notin (x)", True),  # notin matches objects without the key, as in Kubernetes
    ("missing in (x)", False),
    ("kecs.dev/cluster=prod", True),
    ("kecs.dev/cluster in (prod,staging)", True),
    ("empty=", True),
    ("empty", True),
    ("app=web,tier=frontend", True),
    ("app=web,tier=backend", False),
    ("app in (web,db),tier notin (backend),!missing,kecs.dev/cluster", True),
    ("app in (web,db),tier notin (frontend)", False),
    ({"app": "web", "tier": "frontend"}, True),
    ({"app": "web", "tier": "backend"}, False),
    ({"kecs.dev/cluster": "prod"}, True),
]


@pytest.mark.parametrize(("selector", "expected"), MATCHING)
def test_matching(selector: str | dict[str, str] | None, expected: bool) -> None:
    assert compile_selector(selector)(LABELS) is expected


@pytest.mark.parametrize(
    "selector",
    [
        "=web",
        "app in (web",
        "app in ()",
        "app notin ()",
        "a b",
        "app=web=x",
        "app=bad value",
        "bad key=v",
        "app in (web,bad value)",
        "!",
        "app=" + "x" * 64,
        "-app=web",
    ],
)
def test_malformed_selectors_are_refused(selector: str) -> None:
    with pytest.raises(SelectorError):
        compile_selector(selector)


def test_to_string() -> None:
    assert to_string(None) == ""
    assert to_string({}) == ""
    assert to_string("a in (b)") == "a in (b)"
    assert to_string({"a": "1", "kecs.dev/b": "2"}) == "a=1,kecs.dev/b=2"


_keys = st.sampled_from(["a", "b", "kecs.dev/c"])
_values = st.sampled_from(["x", "y", "z-1"])
_label_sets = st.dictionaries(_keys, _values, max_size=3)


@given(selector=st.dictionaries(_keys, _values, max_size=3), labels=_label_sets)
def test_a_mapping_selects_like_its_string_form(
    selector: dict[str, str], labels: dict[str, str]
) -> None:
    assert compile_selector(selector)(labels) is compile_selector(to_string(selector))(labels)


@given(key=_keys, value=_values, labels=_label_sets)
def test_set_forms_with_one_value_equal_the_equality_forms(
    key: str, value: str, labels: dict[str, str]
) -> None:
    assert compile_selector(f"{key} in ({value})")(labels) is compile_selector(f"{key}={value}")(
        labels
    )
    assert compile_selector(f"{key} notin ({value})")(labels) is compile_selector(
        f"{key}!={value}"
    )(labels)
    assert compile_selector(f"!{key}")(labels) is not compile_selector(key)(labels)


@given(
    terms=st.lists(
        st.tuples(_keys, st.sampled_from(["=", "!=", "in", "notin", "exists", "!"]), _values),
        min_size=1,
        max_size=4,
    ),
    labels=_label_sets,
)
def test_a_conjunction_matches_when_every_term_does(
    terms: list[tuple[str, str, str]], labels: dict[str, str]
) -> None:
    def render(key: str, op: str, value: str) -> str:
        if op in ("in", "notin"):
            return f"{key} {op} ({value},other)"
        if op == "exists":
            return key
        if op == "!":
            return f"!{key}"
        return f"{key}{op}{value}"

    rendered = [render(*t) for t in terms]
    whole = compile_selector(",".join(rendered))(labels)
    assert whole is all(compile_selector(r)(labels) for r in rendered)


# -- through a backend (contract) -------------------------------------------------------------

OBJECTS = {
    "web": {"app": "web", "tier": "frontend"},
    "api": {"app": "api", "tier": "backend"},
    "db": {"app": "db", "tier": "backend", "kecs.dev/stateful": "true"},
    "bare": {},
}

SELECTIONS = [
    ("tier=backend", ["api", "db"]),
    ("tier!=backend", ["bare", "web"]),
    ("app in (web,db)", ["db", "web"]),
    ("app notin (web,db)", ["api", "bare"]),
    ("kecs.dev/stateful", ["db"]),
    ("!kecs.dev/stateful", ["api", "bare", "web"]),
    ("tier=backend,!kecs.dev/stateful", ["api"]),
    ({"tier": "backend", "app": "db"}, ["db"]),
    ("app=nothing", []),
]


@pytest.mark.parametrize(("selector", "expected"), SELECTIONS)
def test_backend_list_selects_by_labels(
    backend: Backend, ns: str, selector: str | dict[str, str], expected: list[str]
) -> None:
    for name, labels in OBJECTS.items():
        backend.create(config_map(name, ns, labels=labels))
    assert names(backend.list(kinds.CONFIG_MAP, ns, selector=selector).items) == expected
    assert names(backend.list_all(kinds.CONFIG_MAP, ns, selector=selector)) == expected


@pytest.mark.parametrize("selector", ["app in (web", "=web", "app in ()"])
def test_backend_refuses_malformed_selectors(backend: Backend, ns: str, selector: str) -> None:
    with pytest.raises(Invalid):
        backend.list(kinds.CONFIG_MAP, ns, selector=selector)
