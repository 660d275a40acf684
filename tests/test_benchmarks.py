"""The benchmark harness keeps working (a tiny run; the figures come from `nox -s bench`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str = "bench_taskdefs") -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_task_definition_workload_runs_through_kecs_and_the_floors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = load()
    code = bench.main(["--count", "12", "--page-size", "5", "--only", "kecs,floor"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "kecs/floor (before-send)" in out
    assert " ! " not in out, out


def test_a_failing_variant_is_reported_not_raised() -> None:
    bench = load()

    def broken() -> object:
        raise RuntimeError("no client today")

    result = bench.run_workload("broken", broken, 3, 2)
    assert not result.complete
    assert "no client today" in result.errors["client"]
    assert "broken / client" in bench.report([result], 3)


def test_the_task_workload_runs_through_kecs_and_scales(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load("bench_tasks")
    code = bench.main(["--count", "20", "--scale", "2", "--only", "kecs", "--repeat", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "failed" not in out, out
    assert "scaling, kecs only: N=20 vs N=40" in out
    assert "memory     x" in out
