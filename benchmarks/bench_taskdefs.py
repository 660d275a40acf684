"""Task definition workload through kecs, moto and botocore's own floor, in one process.

The workload: create a cluster, register N task definitions (realistic ones: two containers
with environment, port mappings and logConfiguration, FARGATE sizing), describe each by ARN,
then list them all page by page (ListTaskDefinitions, maxResults=100). It runs through

* kecs:   ``kecs.client("ecs", backend=kecs.MemoryBackend())``
* moto:   ``boto3.client("ecs")`` inside ``moto.mock_aws()``, the tool users would otherwise pick
* floor:  a plain botocore ECS client answered by a canned stub, i.e. botocore's own cost with
          no work behind it: ``before-send`` returns an ``AWSResponse`` with a canned JSON body
          (botocore serializes the request and parses the response, as for kecs), and, for
          reference, ``before-call`` returns an already parsed response (what ``Stubber``
          does; no serializing or parsing at all).

Prints ms/call per phase and overall, and the ratios kecs/moto and kecs/floor. Targets:
kecs at least 5x faster than moto and within 3x of the (before-send) floor. A variant or
phase that fails prints its error and the others still run.

    python benchmarks/bench_taskdefs.py [--count 500] [--page-size 100] [--only kecs,moto]
"""

from __future__ import annotations

import argparse
import copy
import gc
import itertools
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import botocore.session
from botocore import UNSIGNED
from botocore.awsrequest import AWSResponse
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER = "bench"
FAMILIES = 50
PHASES = ("create cluster", "register", "describe", "list")

Client = Any
Factory = Callable[[], Client]


# -- the workload ----------------------------------------------------------------------------


def task_definition(i: int) -> dict[str, Any]:
    """A realistic FARGATE task definition: an app container and a log/metrics sidecar."""
    family = f"bench-{i % FAMILIES:02d}"
    log = {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": f"/ecs/{family}",
            "awslogs-region": REGION,
            "awslogs-stream-prefix": "ecs",
        },
    }
    return {
        "family": family,
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{family}-task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "containerDefinitions": [
            {
                "name": "app",
                "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{family}:v{i}",
                "essential": True,
                "cpu": 384,
                "memory": 768,
                "portMappings": [
                    {"containerPort": 8080, "protocol": "tcp", "name": "http"},
                    {"containerPort": 9090, "protocol": "tcp", "name": "metrics"},
                ],
                "environment": [
                    {"name": "APP_ENV", "value": "production"},
                    {"name": "APP_REVISION", "value": str(i)},
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "DATABASE_HOST", "value": "db.internal"},
                ],
                "logConfiguration": log,
            },
            {
                "name": "sidecar",
                "image": "public.ecr.aws/aws-observability/aws-otel-collector:latest",
                "essential": False,
                "cpu": 128,
                "memoryReservation": 128,
                "portMappings": [{"containerPort": 4317, "protocol": "tcp"}],
                "environment": [{"name": "AWS_REGION", "value": REGION}],
                "logConfiguration": log,
            },
        ],
        "tags": [{"key": "team", "value": "bench"}],
    }


class Result:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.errors: dict[str, str] = {}

    @property
    def complete(self) -> bool:
        return not self.errors and set(self.seconds) == set(PHASES)

    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def total_calls(self) -> int:
        return sum(self.calls.values())


def run_workload(name: str, make_client: Factory, count: int, page_size: int) -> Result:
    result = Result(name)
    try:
        ecs = make_client()
        # Untimed: the first call pays one-off costs (moto loads its backends lazily).
        ecs.list_clusters()
    except Exception as exc:
        result.errors["client"] = _describe(exc)
        return result
    definitions = [task_definition(i) for i in range(count)]
    arns: list[str] = []

    def create() -> int:
        ecs.create_cluster(clusterName=CLUSTER)
        return 1

    def register() -> int:
        for td in definitions:
            arns.append(ecs.register_task_definition(**td)["taskDefinition"]["taskDefinitionArn"])
        return len(definitions)

    def describe() -> int:
        for arn in arns:
            ecs.describe_task_definition(taskDefinition=arn)
        return len(arns)

    def list_all() -> int:
        calls, listed, token = 0, [], None
        while True:
            kwargs: dict[str, Any] = {"maxResults": page_size}
            if token:
                kwargs["nextToken"] = token
            page = ecs.list_task_definitions(**kwargs)
            calls += 1
            listed += page["taskDefinitionArns"]
            token = page.get("nextToken")
            if not token:
                break
        if sorted(listed) != sorted(arns):
            raise AssertionError(f"listed {len(listed)} task definitions, registered {len(arns)}")
        return calls

    for phase, step in zip(PHASES, (create, register, describe, list_all), strict=True):
        start = time.perf_counter()
        try:
            calls = step()
        except Exception as exc:
            result.errors[phase] = _describe(exc)
            if phase == "register" and not arns:
                break
            continue
        result.seconds[phase] = time.perf_counter() - start
        result.calls[phase] = calls
    return result


def _describe(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


# -- the variants ----------------------------------------------------------------------------


def kecs_client() -> Client:
    try:
        import kecs
    except ImportError:  # run from a checkout without `pip install -e .`
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import kecs

    return kecs.client("ecs", region_name=REGION, backend=kecs.MemoryBackend(), account_id=ACCOUNT)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class Canned:
    """Canned ECS answers: the same shapes and sizes kecs and AWS return, no work behind them."""

    def __init__(self) -> None:
        self.revisions: dict[str, int] = {}
        self.counter = itertools.count(1)
        self.pages = 0

    def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "CreateCluster":
            return {"cluster": _cluster()}
        if operation == "ListClusters":
            return {"clusterArns": []}
        if operation == "RegisterTaskDefinition":
            family = params["family"]
            self.revisions[family] = revision = self.revisions.get(family, 0) + 1
            return {"taskDefinition": _described(params, revision), "tags": params.get("tags", [])}
        if operation == "DescribeTaskDefinition":
            family, _, revision = params["taskDefinition"].rpartition("/")[2].partition(":")
            return {
                "taskDefinition": _described(
                    task_definition(0) | {"family": family}, int(revision or 1)
                )
            }
        if operation == "ListTaskDefinitions":
            arns = [
                _td_arn(family, rev)
                for family, top in sorted(self.revisions.items())
                for rev in range(1, top + 1)
            ]
            start = int(params.get("nextToken") or 0)
            end = start + int(params.get("maxResults") or 100)
            page: dict[str, Any] = {"taskDefinitionArns": arns[start:end]}
            if end < len(arns):
                page["nextToken"] = str(end)
            return page
        raise KeyError(operation)


def _cluster() -> dict[str, Any]:
    return {
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
        "clusterName": CLUSTER,
        "status": "ACTIVE",
        "registeredContainerInstancesCount": 0,
        "runningTasksCount": 0,
        "pendingTasksCount": 0,
        "activeServicesCount": 0,
        "statistics": [],
        "tags": [],
        "settings": [{"name": "containerInsights", "value": "disabled"}],
        "capacityProviders": [],
        "defaultCapacityProviderStrategy": [],
    }


def _td_arn(family: str, revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"


def _described(params: dict[str, Any], revision: int) -> dict[str, Any]:
    td = {k: v for k, v in params.items() if k != "tags"}
    td.update(
        taskDefinitionArn=_td_arn(params["family"], revision),
        revision=revision,
        status="ACTIVE",
        compatibilities=["EC2", "FARGATE"],
        requiresAttributes=[{"name": "com.amazonaws.ecs.capability.task-iam-role"}],
        registeredAt=1_700_000_000.0,
        registeredBy=f"arn:aws:iam::{ACCOUNT}:root",
    )
    return td


def _plain_botocore_client() -> Client:
    session = botocore.session.get_session()
    return session.create_client(
        "ecs", region_name=REGION, config=Config(signature_version=UNSIGNED)
    )


def floor_before_send() -> Client:
    """botocore serializes the request and parses a canned JSON response, as it does for AWS."""
    ecs = _plain_botocore_client()
    canned = Canned()
    headers = {
        "x-amzn-RequestId": "00000000-0000-0000-0000-000000000000",
        "Content-Type": "application/x-amz-json-1.1",
    }

    def send(request: Any, **_: Any) -> AWSResponse:
        operation = request.headers["X-Amz-Target"].decode().rpartition(".")[2]
        body = json.dumps(canned.answer(operation, json.loads(request.body or b"{}"))).encode()
        return AWSResponse(request.url, 200, headers, _Raw(body))

    ecs.meta.events.register("before-send.ecs", send)
    return ecs


def floor_before_call() -> Client:
    """An already parsed response, as botocore's ``Stubber`` gives: no serializing, no parsing."""
    ecs = _plain_botocore_client()
    canned = Canned()
    registered = datetime(2023, 11, 14, tzinfo=timezone.utc)

    def call(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = copy.deepcopy(canned.answer(model.name, json.loads(params["body"] or b"{}")))
        if "taskDefinition" in parsed:
            parsed["taskDefinition"]["registeredAt"] = registered
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "RequestId": "stub"}
        return AWSResponse(None, 200, {}, None), parsed

    ecs.meta.events.register("before-call.ecs", call)
    return ecs


def moto_client() -> Client:
    import boto3

    return boto3.client("ecs", region_name=REGION)


def moto_context() -> AbstractContextManager[Any]:
    for var, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("MOTO_ACCOUNT_ID", ACCOUNT),
    ):
        os.environ.setdefault(var, value)
    from moto import mock_aws

    return mock_aws()


VARIANTS: dict[str, tuple[Factory, Callable[[], AbstractContextManager[Any]]]] = {
    "floor (before-call)": (floor_before_call, nullcontext),
    "floor (before-send)": (floor_before_send, nullcontext),
    "kecs": (kecs_client, nullcontext),
    "moto": (moto_client, moto_context),
}
FLOOR = "floor (before-send)"


# -- report ----------------------------------------------------------------------------------


def report(results: list[Result], count: int, repeat: int = 1) -> str:
    lines = [
        f"task definition workload, N={count}, fastest of {repeat} interleaved runs "
        "(ms per call; calls in brackets)",
        "",
    ]
    header = f"{'variant':<22}" + "".join(f"{p:>18}" for p in PHASES) + f"{'overall':>18}"
    lines.append(header)
    for r in results:
        cells = []
        for phase in PHASES:
            if phase in r.seconds:
                ms = 1000 * r.seconds[phase] / max(r.calls[phase], 1)
                cells.append(f"{ms:>10.3f} [{r.calls[phase]:>4}]")
            else:
                cells.append(f"{'failed':>17}")
        overall = (
            f"{1000 * r.total_seconds() / r.total_calls():>10.3f} [{r.total_calls():>4}]"
            if r.complete
            else f"{'incomplete':>17}"
        )
        lines.append(f"{r.name:<22}" + "".join(f"{c:>18}" for c in cells) + f"{overall:>18}")
    for r in results:
        for phase, error in r.errors.items():
            lines.append(f"  ! {r.name} / {phase}: {error}")
    by_name = {r.name: r for r in results}
    kecs = by_name.get("kecs")
    lines.append("")
    if kecs is not None and kecs.complete:
        lines.append(f"kecs whole workload: {1000 * kecs.total_seconds():.0f} ms")
        moto = by_name.get("moto")
        if moto is not None and moto.complete:
            speedup = moto.total_seconds() / kecs.total_seconds()
            verdict = "met" if speedup >= 5 else "MISSED"
            lines.append(
                f"kecs/moto:  {kecs.total_seconds() / moto.total_seconds():.3f} "
                f"(kecs {speedup:.1f}x faster than moto; target >=5x: {verdict})"
            )
        for floor_name in ("floor (before-send)", "floor (before-call)"):
            floor = by_name.get(floor_name)
            if floor is not None and floor.complete:
                ratio = kecs.total_seconds() / floor.total_seconds()
                target = (
                    f"; target <=3x: {'met' if ratio <= 3 else 'MISSED'}"
                    if floor_name == FLOOR
                    else ""
                )
                lines.append(f"kecs/{floor_name}: {ratio:.2f}x{target}")
    else:
        lines.append("kecs did not complete the workload; no ratios.")
    return "\n".join(lines)


def run_variant(name: str, count: int, page_size: int) -> Result:
    factory, context = VARIANTS[name]
    gc.collect()
    try:
        with context():
            return run_workload(name, factory, count, page_size)
    except Exception as exc:
        failed = Result(name)
        failed.errors["setup"] = _describe(exc)
        return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500, help="task definitions to register")
    parser.add_argument("--page-size", type=int, default=100, help="ListTaskDefinitions maxResults")
    parser.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per variant, interleaved; the fastest counts"
    )
    args = parser.parse_args(argv)
    wanted = [v.strip() for v in args.only.split(",") if v.strip()]
    chosen = [n for n in VARIANTS if any(w == n or n.startswith(w) for w in wanted)]
    best: dict[str, Result] = {}
    # Interleaved repeats keyed on the fastest run: on a shared machine, load spikes hit
    # every variant alike instead of whichever happened to run during one.
    for _ in range(max(args.repeat, 1)):
        for name in chosen:
            result = run_variant(name, args.count, args.page_size)
            kept = best.get(name)
            if kept is None or (
                result.complete
                and (not kept.complete or result.total_seconds() < kept.total_seconds())
            ):
                best[name] = result
    results = [best[name] for name in chosen]
    print(report(results, args.count, args.repeat))
    kecs = next((r for r in results if r.name == "kecs"), None)
    return 0 if kecs is None or kecs.complete else 1


if __name__ == "__main__":
    sys.exit(main())
