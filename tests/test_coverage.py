"""docs/coverage.md is generated from botocore's model and the registered handlers."""

from __future__ import annotations

from kecs import coverage
from kecs.api import service_model
from kecs.operations.registry import handlers


def test_the_checked_in_coverage_table_is_current() -> None:
    expected = coverage.render()
    actual = coverage.DEFAULT_PATH.read_text() if coverage.DEFAULT_PATH.exists() else ""
    assert actual == expected, (
        f"docs/coverage.md is stale: regenerate it with `{coverage.REGENERATE}` and commit it"
    )


def test_the_table_lists_every_operation_with_its_state() -> None:
    table = coverage.states()
    assert set(table) == set(service_model.operation_names())
    assert len(table) == 88
    for name, state in table.items():
        assert state == (coverage.IMPLEMENTED if name in handlers() else coverage.NOT_YET)
    text = coverage.render()
    for name in table:
        assert f"| {name} | " in text


def test_handlers_only_register_real_operations() -> None:
    assert set(handlers()) <= set(service_model.operation_names())
