"""``kecs.client("ecs")``: a real botocore ECS client, answered in-process by kecs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

import kecs
from kecs.api import wire
from kecs.operations.registry import handlers

_botocore = botocore.session.get_session()
MODEL = _botocore.get_service_model("ecs")
PAGINATED = sorted(_botocore.get_paginator_model("ecs")._paginator_config)
WAITERS = sorted(_botocore.get_waiter_model("ecs").waiter_names)


def snake(name: str) -> str:
    return botocore.xform_name(name)


@pytest.fixture
def ecs() -> Any:
    return kecs.client("ecs", backend=kecs.MemoryBackend())


@pytest.fixture
def fresh_default_world() -> Iterator[None]:
    kecs.reset_default_backend()
    yield
    kecs.reset_default_backend()


@pytest.fixture
def no_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "KECS_ACCOUNT_ID", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)


def implemented(*operations: str) -> None:
    missing = [op for op in operations if op not in handlers()]
    if missing:
        pytest.skip(f"not implemented yet: {', '.join(missing)}")


def unimplemented_operation(monkeypatch: pytest.MonkeyPatch) -> str:
    """An operation without required parameters that no handler answers: one without a
    handler, else one whose handler this test hides from the wire handler."""
    candidates = [
        name
        for name in sorted(MODEL.operation_names)
        if not MODEL.operation_model(name).input_shape.required_members
    ]
    for name in candidates:
        if name not in handlers():
            return name
    chosen = candidates[0]
    real = wire.handler_for
    monkeypatch.setattr(wire, "handler_for", lambda name: None if name == chosen else real(name))
    return chosen


# -- it is botocore's ECS client -------------------------------------------------------------


def test_it_is_the_same_client_class_as_boto3s(ecs: Any) -> None:
    reference = boto3.client("ecs", region_name="us-east-1")
    assert type(ecs).__name__ == "ECS"
    assert isinstance(ecs, BaseClient)
    # kecs may keep private bookkeeping on the instance; nothing public differs.
    assert {n for n in dir(ecs) if not n.startswith("_kecs")} == set(dir(reference))
    assert set(dir(type(ecs))) == set(dir(type(reference)))
    assert ecs.meta.service_model.service_name == "ecs"
    assert ecs.meta.partition == "aws"


def test_every_operation_is_a_method(ecs: Any) -> None:
    assert len(MODEL.operation_names) == 88
    for name in MODEL.operation_names:
        assert callable(getattr(ecs, snake(name))), name


def test_region_comes_from_the_argument_the_environment_or_the_default(
    monkeypatch: pytest.MonkeyPatch, no_aws_env: None
) -> None:
    backend = kecs.MemoryBackend()
    assert kecs.client("ecs", backend=backend).meta.region_name == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert kecs.client("ecs", backend=backend).meta.region_name == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert kecs.client("ecs", backend=backend).meta.region_name == "ap-south-1"
    assert kecs.client("ecs", "us-west-2", backend=backend).meta.region_name == "us-west-2"
    assert (
        kecs.client("ecs", region_name="ca-central-1", backend=backend).meta.region_name
        == "ca-central-1"
    )


def test_modelled_exceptions_are_the_clients_own(ecs: Any) -> None:
    assert issubclass(ecs.exceptions.ClusterNotFoundException, ClientError)
    for shape in MODEL.error_shapes:
        assert issubclass(getattr(ecs.exceptions, shape.name), ClientError), shape.name


@pytest.mark.parametrize("operation", PAGINATED)
def test_every_paginator_is_available(ecs: Any, operation: str) -> None:
    assert ecs.can_paginate(snake(operation))
    assert ecs.get_paginator(snake(operation)) is not None


@pytest.mark.parametrize("waiter", WAITERS)
def test_every_waiter_is_available(ecs: Any, waiter: str) -> None:
    assert snake(waiter) in ecs.waiter_names
    assert ecs.get_waiter(snake(waiter)).name == waiter


def test_waiter_names_match_botocores(ecs: Any) -> None:
    assert sorted(ecs.waiter_names) == sorted(snake(w) for w in WAITERS)


def test_clients_share_botocores_loader() -> None:
    backend = kecs.MemoryBackend()
    assert (
        kecs.client("ecs", backend=backend)._loader is kecs.client("ecs", backend=backend)._loader
    )


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["s3", "ECS", "ecs ", "sqs", ""])
def test_other_services_are_refused(service: str) -> None:
    with pytest.raises(kecs.UnsupportedServiceError, match="ecs"):
        kecs.client(service)
    assert issubclass(kecs.UnsupportedServiceError, kecs.KecsError)


@pytest.mark.parametrize("account", ["1", "12345678901", "1234567890123", "abcdefghijkl", " " * 12])
def test_a_malformed_account_id_is_refused(account: str) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        kecs.client("ecs", backend=kecs.MemoryBackend(), account_id=account)


def test_a_malformed_account_id_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KECS_ACCOUNT_ID", "not-an-account")
    with pytest.raises(ValueError, match="12 digits"):
        kecs.client("ecs", backend=kecs.MemoryBackend())


def test_botocore_validates_parameters(ecs: Any) -> None:
    with pytest.raises(ParamValidationError, match="clusterName"):
        ecs.create_cluster(clusterName=5)
    with pytest.raises(ParamValidationError, match="taskDefinition"):
        ecs.describe_task_definition()
    with pytest.raises(ParamValidationError, match="nosuch"):
        ecs.list_clusters(nosuch=1)


def test_kecs_validates_when_botocore_is_told_not_to() -> None:
    ecs = kecs.client(
        "ecs", backend=kecs.MemoryBackend(), config=Config(parameter_validation=False)
    )
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="clusterName"):
        ecs.create_cluster(clusterName=5)


def test_an_unimplemented_operation_says_so(ecs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    operation = unimplemented_operation(monkeypatch)
    with pytest.raises(ecs.exceptions.UnsupportedFeatureException, match=operation) as caught:
        getattr(ecs, snake(operation))()
    error = caught.value.response
    assert error["Error"]["Code"] == "UnsupportedFeatureException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["RequestId"]


# -- answered in-process --------------------------------------------------------------------


def test_calls_never_reach_http(ecs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    ecs.meta.events.register("before-send.ecs", lambda **kw: sent.append(kw))
    with pytest.raises(ClientError):
        getattr(ecs, snake(unimplemented_operation(monkeypatch)))()
    if "ListClusters" in handlers():
        ecs.list_clusters()
    assert sent == []


def test_a_successful_call_has_response_metadata(ecs: Any) -> None:
    implemented("ListClusters")
    response = ecs.list_clusters()
    metadata = response["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 200
    assert metadata["RequestId"]
    assert metadata["RetryAttempts"] == 0
    assert metadata["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.1"
    assert ecs.list_clusters()["ResponseMetadata"]["RequestId"] != metadata["RequestId"]


def test_two_default_clients_share_one_world(fresh_default_world: None) -> None:
    implemented("CreateCluster", "ListClusters")
    first, second = kecs.client("ecs"), kecs.client("ecs")
    assert kecs.default_backend() is kecs.default_backend()
    first.create_cluster(clusterName="shared")
    assert any(arn.endswith("/shared") for arn in second.list_clusters()["clusterArns"])


def test_resetting_the_default_backend_starts_a_new_world(fresh_default_world: None) -> None:
    before = kecs.default_backend()
    kecs.reset_default_backend()
    assert kecs.default_backend() is not before


def test_separate_memory_backends_are_separate_worlds() -> None:
    implemented("CreateCluster", "ListClusters")
    a = kecs.client("ecs", backend=kecs.MemoryBackend())
    b = kecs.client("ecs", backend=kecs.MemoryBackend())
    a.create_cluster(clusterName="only-in-a")
    assert not any(arn.endswith("/only-in-a") for arn in b.list_clusters()["clusterArns"])


def test_one_backend_shared_explicitly_is_one_world() -> None:
    implemented("CreateCluster", "ListClusters")
    backend = kecs.MemoryBackend()
    kecs.client("ecs", backend=backend).create_cluster(clusterName="both")
    other = kecs.client("ecs", backend=backend)
    assert any(arn.endswith("/both") for arn in other.list_clusters()["clusterArns"])


def test_regions_and_accounts_on_one_backend_do_not_mix() -> None:
    implemented("CreateCluster", "ListClusters")
    backend = kecs.MemoryBackend()
    home = kecs.client("ecs", "us-east-1", backend=backend, account_id="111111111111")
    home.create_cluster(clusterName="home")
    for region, account in [("eu-west-1", "111111111111"), ("us-east-1", "222222222222")]:
        elsewhere = kecs.client("ecs", region, backend=backend, account_id=account)
        assert elsewhere.list_clusters()["clusterArns"] == []
    assert home.list_clusters()["clusterArns"] == [
        "arn:aws:ecs:us-east-1:111111111111:cluster/home"
    ]


def test_import_kecs_does_not_import_kubernetes() -> None:
    code = (
        "import sys, kecs; kecs.client('ecs', backend=kecs.MemoryBackend()); "
        "loaded = sorted(m for m in sys.modules if m.partition('.')[0] == 'kubernetes'); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
