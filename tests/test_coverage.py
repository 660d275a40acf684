"""docs/coverage.md is generated from botocore's model and the registered handlers."""

from __future__ import annotations

from kecs import coverage
from kecs.api import service_model
from kecs.operations.registry import handlers, unsupported_reasons


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
    refused = unsupported_reasons()
    for name, state in table.items():
        if name in refused:
            assert state == coverage.UNSUPPORTED
        else:
            assert state == (coverage.IMPLEMENTED if name in handlers() else coverage.NOT_YET)
    text = coverage.render()
    for name in table:
        assert f"| {name} | " in text
    for name, reason in refused.items():
        assert f"| {name} | {coverage.UNSUPPORTED} | {reason} |" in text


def test_every_unsupported_operation_has_a_handler_and_a_reason() -> None:
    refused = unsupported_reasons()
    assert refused, "the agent-only operations at least are refused with a reason"
    for name, reason in refused.items():
        assert name in handlers()
        assert len(reason) > 40 and "Kubernetes" in reason, (name, reason)


def test_handlers_only_register_real_operations() -> None:
    assert set(handlers()) <= set(service_model.operation_names())
