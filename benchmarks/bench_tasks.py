"""Task workload through kecs and moto in one process, and how kecs scales to 10,000 tasks.

The workload (issue 3): create a cluster, register one EC2 task definition, then N
``run_task`` calls (one task each), describe every task in batches of 100, and list them all
page by page (ListTasks, maxResults=100). It runs through

* kecs: ``kecs.client("ecs", backend=kecs.MemoryBackend())`` (the tasks really become pods
  that the embedded cluster schedules and starts);
* moto: ``boto3.client("ecs")`` inside ``moto.mock_aws()``, with enough container instances
  registered (untimed) for moto to place every task.

Then kecs alone at N and 10*N tasks, and the 10N/N ratios (linear growth means ratios near
10): time per phase from runs without memory tracing, peak memory from separate runs under
``tracemalloc`` (whose time ratios are printed too, but tracing slows allocation-heavy
phases unevenly, so the untraced ratios are the ones to read).

``--repeat R`` runs each comparison variant R times, interleaved, and keeps the fastest run
(on a shared machine, load spikes then hit every variant alike).

    python benchmarks/bench_tasks.py [--count 1000] [--scale 10] [--only kecs,moto] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER = "bench"
PHASES = ("run_task", "describe", "list")
TASK_DEFINITION: dict[str, Any] = {
    "family": "bench",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "public.ecr.aws/nginx/nginx:1.27",
            "essential": True,
            "cpu": 64,
            "memory": 128,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "environment": [{"name": "MODE", "value": "bench"}],
        }
    ],
}
#: Tasks one moto container instance holds (its default instance has ~3.7 GiB).
MOTO_TASKS_PER_INSTANCE = 25

Client = Any


class Result:
    def __init__(self, name: str, count: int) -> None:
        self.name = name
        self.count = count
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.error: str | None = None
        self.peak_bytes: int | None = None

    def total(self) -> float:
        return sum(self.seconds.values())


def run_workload(name: str, ecs: Client, count: int) -> Result:
    result = Result(name, count)
    ecs.register_task_definition(**TASK_DEFINITION)
    arns: list[str] = []

    def run() -> int:
        for _ in range(count):
            answer = ecs.run_task(cluster=CLUSTER, taskDefinition="bench")
            arns.extend(t["taskArn"] for t in answer["tasks"])
        if len(arns) != count:
            raise AssertionError(f"started {len(arns)} tasks, wanted {count}")
        return count

    def describe() -> int:
        calls = 0
        for start in range(0, len(arns), 100):
            batch = arns[start : start + 100]
            found = ecs.describe_tasks(cluster=CLUSTER, tasks=batch)["tasks"]
            if len(found) != len(batch):
                raise AssertionError(f"described {len(found)} of {len(batch)} tasks")
            calls += 1
        return calls

    def list_all() -> int:
        calls, listed, token = 0, 0, None
        while True:
            kwargs: dict[str, Any] = {"cluster": CLUSTER, "maxResults": 100}
            if token:
                kwargs["nextToken"] = token
            page = ecs.list_tasks(**kwargs)
            calls += 1
            listed += len(page["taskArns"])
            token = page.get("nextToken")
            if not token:
                break
        if listed != count:
            raise AssertionError(f"listed {listed} tasks, started {count}")
        return calls

    for phase, step in zip(PHASES, (run, describe, list_all), strict=True):
        start = time.perf_counter()
        try:
            result.calls[phase] = step()
        except Exception as exc:
            result.error = f"{phase}: {type(exc).__name__}: {exc}"
            return result
        result.seconds[phase] = time.perf_counter() - start
    return result


def kecs_client(count: int) -> Client:
    try:
        import kecs
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import kecs
    ecs = kecs.client("ecs", region_name=REGION, backend=kecs.MemoryBackend(), account_id=ACCOUNT)
    # The embedded cluster brings its own nodes (and adds more when pods do not fit).
    ecs.create_cluster(clusterName=CLUSTER)
    return ecs


def moto_client(count: int) -> Client:
    import json

    import boto3
    from moto.ec2 import utils as ec2_utils

    # moto places EC2 tasks only on registered container instances with room left.
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName=CLUSTER)
    instances = -(-count // MOTO_TASKS_PER_INSTANCE)
    ec2 = boto3.resource("ec2", region_name=REGION)
    for instance in ec2.create_instances(
        ImageId="ami-12c6146b", MinCount=instances, MaxCount=instances
    ):
        document = json.dumps(ec2_utils.generate_instance_identity_document(instance))
        ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document)
    return ecs


def moto_context() -> AbstractContextManager[Any]:
    for var, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("MOTO_ACCOUNT_ID", ACCOUNT),
    ):
        os.environ.setdefault(var, value)
    from moto import mock_aws

    return mock_aws()


Factory = Callable[[int], Client]
VARIANTS: dict[str, tuple[Factory, Callable[[], AbstractContextManager[Any]]]] = {
    "kecs": (kecs_client, nullcontext),
    "moto": (moto_client, moto_context),
}


def run_variant(name: str, count: int, *, trace_memory: bool = False) -> Result:
    factory, context = VARIANTS[name]
    gc.collect()
    if trace_memory:
        tracemalloc.start()
    try:
        with context():
            result = run_workload(name, factory(count), count)
    except Exception as exc:
        result = Result(name, count)
        result.error = f"setup: {type(exc).__name__}: {exc}"
    if trace_memory:
        result.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result


def _row(r: Result) -> str:
    if r.error:
        return f"{r.name:<8}{r.count:>8}  failed: {r.error}"
    cells = "".join(f"{1000 * r.seconds[p] / r.calls[p]:>10.3f} [{r.calls[p]:>5}]" for p in PHASES)
    return f"{r.name:<8}{r.count:>8}{cells}{r.total():>10.2f} s"


def _fastest(kept: Result | None, result: Result) -> Result:
    if kept is None or (not result.error and (kept.error or result.total() < kept.total())):
        return result
    return kept


def _ratios(small: Result, big: Result, scale: int, label: str) -> None:
    for phase in PHASES:
        ratio = big.seconds[phase] / small.seconds[phase]
        print(f"  {phase:<10} time x{ratio:5.1f} for x{scale} tasks ({label})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=10, help="the scaling run uses count*scale")
    parser.add_argument("--only", default="kecs,moto")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per variant, interleaved; the fastest counts"
    )
    args = parser.parse_args(argv)
    chosen = [n for n in VARIANTS if n in args.only.split(",")]

    repeat = max(args.repeat, 1)
    print(f"task workload, N={args.count}, fastest of {repeat} (ms per call; calls in brackets)\n")
    print(f"{'variant':<8}{'tasks':>8}" + "".join(f"{p:>18}" for p in PHASES) + f"{'total':>12}")
    results: dict[str, Result] = {}
    for _ in range(repeat):
        for name in chosen:
            results[name] = _fastest(results.get(name), run_variant(name, args.count))
    for r in results.values():
        print(_row(r))
    kecs, moto = results.get("kecs"), results.get("moto")
    ok = kecs is not None and not kecs.error
    if ok and moto is not None and not moto.error:
        speedup = moto.total() / kecs.total()  # type: ignore[union-attr]
        verdict = "met" if speedup >= 5 else "MISSED"
        print(f"\nkecs is {speedup:.1f}x faster than moto (target >=5x: {verdict})")

    if "kecs" in chosen and args.scale > 1:
        big = args.count * args.scale
        print(f"\nscaling, kecs only: N={args.count} vs N={big}\n")
        timed = [run_variant("kecs", n) for n in (args.count, big)]
        print("time, without memory tracing:")
        for r in timed:
            print(_row(r))
        traced = [run_variant("kecs", n, trace_memory=True) for n in (args.count, big)]
        print("\npeak memory, traced by tracemalloc (which slows the run):")
        for r in traced:
            peak = f"{(r.peak_bytes or 0) / 2**20:8.1f} MiB peak" if not r.error else ""
            print(_row(r) + "  " + peak)
        if not any(r.error for r in (*timed, *traced)):
            print()
            _ratios(timed[0], timed[1], args.scale, "no tracing")
            _ratios(traced[0], traced[1], args.scale, "traced")
            memory = (traced[1].peak_bytes or 0) / (traced[0].peak_bytes or 1)
            print(f"  {'memory':<10} x{memory:5.1f}")
        ok = ok and not any(r.error for r in (*timed, *traced))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
