"""kecs.mock(): ECS clients made the usual ways are answered by kecs; nothing else changes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

import kecs
from kecs.backends import kinds
from kecs.mock import active as active_mock

ROOT = Path(__file__).resolve().parents[1]
ORIGINAL_CREATE_CLIENT = botocore.session.Session.__dict__["create_client"]

FACTORIES: dict[str, Callable[[str], Any]] = {
    "boto3.client": lambda region: boto3.client("ecs", region_name=region),
    "boto3.Session().client": lambda region: boto3.Session().client("ecs", region_name=region),
    "botocore Session().create_client": lambda region: botocore.session.Session().create_client(
        "ecs", region_name=region
    ),
    "botocore get_session().create_client": lambda region: (
        botocore.session.get_session().create_client("ecs", region_name=region)
    ),
}


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No credentials, no region, no config files: tests must not need an AWS account."""
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "KECS_ACCOUNT_ID",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    # boto3's default session may have been made (and cached its config) by another test.
    boto3.DEFAULT_SESSION = None
    yield
    boto3.DEFAULT_SESSION = None
    assert botocore.session.Session.__dict__["create_client"] is ORIGINAL_CREATE_CLIENT
    assert active_mock() is None


def _handlers_include_responder(client: Any) -> bool:
    return "kecs-responder" in client.meta.events._emitter._unique_id_handlers


def canned_http(client: Any, status: int = 200, body: bytes = b"{}") -> list[str]:
    """Answer ``client``'s HTTP sends with a canned response; returns the URLs sent to."""
    sent: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.url)
        return AWSResponse(request.url, status, {}, _Raw(body))

    client.meta.events.register("before-send", answer)
    return sent


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> list[bytes]:
        return [self._body]


# -- the entry points -----------------------------------------------------------------------


@pytest.mark.parametrize("factory", FACTORIES.values(), ids=FACTORIES.keys())
def test_every_entry_point_makes_a_kecs_client_on_the_mocks_backend(
    factory: Callable[[str], Any],
) -> None:
    with kecs.mock() as m:
        ecs = factory("eu-west-1")
        sent = canned_http(ecs)
        arn = ecs.create_cluster(clusterName="demo")["cluster"]["clusterArn"]
    assert sent == []  # answered in-process
    assert arn == "arn:aws:ecs:eu-west-1:000000000000:cluster/demo"
    namespaces = m.backend.list_all(kinds.NAMESPACE, selector={"kecs.dev/resource": "cluster"})
    assert len(namespaces) == 1
    assert type(ecs).__name__ == "ECS"
    assert ecs.meta.region_name == "eu-west-1"


def test_clients_share_the_backend_and_keep_their_own_region() -> None:
    with kecs.mock() as m:
        east = boto3.client("ecs", region_name="us-east-1")
        east_again = boto3.Session().client("ecs", region_name="us-east-1")
        west = boto3.client("ecs", region_name="us-west-2")
        east.create_cluster(clusterName="shared")
        assert east_again.list_clusters()["clusterArns"] == [
            "arn:aws:ecs:us-east-1:000000000000:cluster/shared"
        ]
        assert west.list_clusters()["clusterArns"] == []
        mine = kecs.client("ecs", region_name="us-east-1", backend=m.backend)
        assert len(mine.list_clusters()["clusterArns"]) == 1


def test_an_explicit_backend_and_account_are_used() -> None:
    backend = kecs.MemoryBackend()
    with kecs.mock(backend=backend, account_id="123456789012") as m:
        assert m.backend is backend
        arn = boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="x")
    assert arn["cluster"]["clusterArn"] == "arn:aws:ecs:us-east-1:123456789012:cluster/x"
    seen = kecs.client("ecs", backend=backend, account_id="123456789012").list_clusters()
    assert seen["clusterArns"] == [arn["cluster"]["clusterArn"]]


def test_modelled_errors_are_the_clients_own_exceptions() -> None:
    with kecs.mock():
        ecs = boto3.client("ecs", region_name="us-east-1")
        with pytest.raises(ecs.exceptions.ClientException, match="Unable to describe"):
            ecs.describe_task_definition(taskDefinition="missing:1")


def test_kecs_client_inside_a_mock_keeps_its_own_backend() -> None:
    own = kecs.MemoryBackend()
    with kecs.mock() as m:
        kecs.client("ecs", backend=own).create_cluster(clusterName="mine")
        assert boto3.client("ecs", region_name="us-east-1").list_clusters()["clusterArns"] == []
    assert m.backend is not own
    assert kecs.client("ecs", backend=own).list_clusters()["clusterArns"]


# -- credentials and region -----------------------------------------------------------------


def test_no_credential_lookup_happens_for_ecs_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("kecs.mock must not look up credentials for ECS clients")

    monkeypatch.setattr(botocore.session.Session, "get_credentials", refuse)
    with kecs.mock():
        ecs = boto3.client("ecs", region_name="us-east-1")
        assert ecs.list_clusters()["clusterArns"] == []


def test_explicit_credentials_are_kept() -> None:
    with kecs.mock():
        ecs = boto3.client(
            "ecs",
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
        )
    assert ecs._request_signer._credentials.access_key == "AKIDEXAMPLE"


def test_without_any_region_kecs_default_region_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with kecs.mock():
        assert boto3.client("ecs").meta.region_name == "us-east-1"
        monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
        assert boto3.Session().client("ecs").meta.region_name == "ap-south-1"
        ecs = botocore.session.Session().create_client("ecs")
        assert ecs.create_cluster(clusterName="c")["cluster"]["clusterArn"].split(":")[3] == (
            "ap-south-1"
        )


# -- other services and undoing -------------------------------------------------------------


def test_other_services_are_left_to_botocore() -> None:
    with kecs.mock():
        s3 = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
        )
        sts = botocore.session.Session().create_client(
            "sts", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
        )
        sent = canned_http(s3, body=b"<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>")
        s3.list_buckets()
    assert sent and sent[0].startswith("https://s3.amazonaws.com")
    assert not _handlers_include_responder(s3)
    assert not _handlers_include_responder(sts)


def test_exit_restores_botocore_exactly() -> None:
    before = dict(vars(botocore.session.Session))
    with kecs.mock():
        assert botocore.session.Session.__dict__["create_client"] is not ORIGINAL_CREATE_CLIENT
    assert dict(vars(botocore.session.Session)) == before
    ecs = boto3.client(
        "ecs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    assert not _handlers_include_responder(ecs)
    sent = canned_http(ecs, body=b'{"clusterArns": []}')
    ecs.list_clusters()
    assert sent == ["https://ecs.us-east-1.amazonaws.com/"]


def test_a_client_made_inside_stays_bound_to_its_world() -> None:
    with kecs.mock() as m:
        ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="after")
    assert m.backend.list_all(kinds.NAMESPACE, selector={"kecs.dev/resource": "cluster"})


# -- nesting, re-entry, decorator, threads --------------------------------------------------


def test_mocks_nest_and_the_innermost_answers() -> None:
    with kecs.mock() as outer:
        with kecs.mock() as inner:
            boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="inner")
        boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="outer")
        assert botocore.session.Session.__dict__["create_client"] is not ORIGINAL_CREATE_CLIENT

    def clusters(m: Any) -> list[str]:
        return kecs.client("ecs", backend=m.backend).list_clusters()["clusterArns"]

    assert [a.rsplit("/", 1)[1] for a in clusters(inner)] == ["inner"]
    assert [a.rsplit("/", 1)[1] for a in clusters(outer)] == ["outer"]


def test_the_same_mock_can_be_entered_again() -> None:
    m = kecs.mock()
    with m:
        with m:
            assert m.active
        assert m.active
        boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="kept")
    assert not m.active
    with m:  # as a context manager the world is kept between entries
        listed = boto3.client("ecs", region_name="us-east-1").list_clusters()["clusterArns"]
    assert len(listed) == 1


def test_stop_without_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="without a matching start"):
        kecs.mock().stop()


def test_as_a_decorator_every_call_gets_a_fresh_world() -> None:
    m = kecs.mock()

    @m
    def count_and_create(name: str) -> int:
        ecs = boto3.client("ecs", region_name="us-east-1")
        found = len(ecs.list_clusters()["clusterArns"])
        ecs.create_cluster(clusterName=name)
        return found

    assert count_and_create("a") == 0
    assert count_and_create("b") == 0
    assert count_and_create.__name__ == "count_and_create"
    assert kecs.client("ecs", backend=m.backend).list_clusters()["clusterArns"][0].endswith("/b")


def test_a_decorator_with_a_backend_shares_it() -> None:
    backend = kecs.MemoryBackend()

    @kecs.mock(backend=backend)
    def create(name: str) -> int:
        ecs = boto3.client("ecs", region_name="us-east-1")
        ecs.create_cluster(clusterName=name)
        return len(ecs.list_clusters()["clusterArns"])

    assert create("a") == 1
    assert create("b") == 2


def test_a_coroutine_function_can_be_decorated() -> None:
    @kecs.mock()
    async def create() -> str:
        ecs = boto3.client("ecs", region_name="us-east-1")
        return str(ecs.create_cluster(clusterName="async")["cluster"]["status"])

    assert asyncio.run(create()) == "ACTIVE"


def test_threads_create_clients_and_enter_mocks_concurrently() -> None:
    errors: list[BaseException] = []
    shared = kecs.mock()

    def work(index: int) -> None:
        try:
            for round_ in range(2):
                with shared, kecs.mock():
                    ecs = boto3.Session().client("ecs", region_name="us-east-1")
                    assert _handlers_include_responder(ecs)
                    ecs.create_cluster(clusterName=f"t{index}-{round_}")
                with shared:
                    boto3.client("ecs", region_name="us-east-1").list_clusters()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert not shared.active


def test_one_mock_serves_many_threads() -> None:
    with kecs.mock() as m:

        def create(index: int) -> None:
            boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName=f"c{index}")

        threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    arns = kecs.client("ecs", backend=m.backend).list_clusters()["clusterArns"]
    assert len(arns) == 8


# -- the export -----------------------------------------------------------------------------


def test_kecs_mock_is_callable_whichever_way_it_was_imported() -> None:
    code = (
        "import kecs.mock, kecs.render, kecs, sys\n"
        "assert not isinstance(kecs.mock(), type(sys))\n"
        "assert callable(sys.modules['kecs.mock']) and callable(sys.modules['kecs.render'])\n"
        "from kecs import mock, render\n"
        "print(type(mock()).__name__, type(render({'family': 'f'})).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["EcsMock", "Rendered"]


def test_import_kecs_does_not_import_mock_or_render() -> None:
    code = "import kecs, sys; print([m for m in ('kecs.mock', 'kecs.render') if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"
