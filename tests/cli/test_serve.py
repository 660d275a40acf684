"""The HTTP server: the wire as SDKs expect it, regions, concurrency, the CLI process."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

import kecs
from kecs.server import EcsHttpServer, region_from_authorization, serve

ROOT = Path(__file__).resolve().parents[2]
TARGET = "AmazonEC2ContainerServiceV20141113"


@pytest.fixture
def server() -> Iterator[EcsHttpServer]:
    with serve(kecs.MemoryBackend(), port=0, region="us-east-1") as running:
        yield running


def sdk(server: EcsHttpServer, region: str = "us-east-1") -> Any:
    return boto3.client(
        "ecs",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id="kecs",
        aws_secret_access_key="kecs",
    )


def post(
    server: EcsHttpServer,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    host, port = server.server_address[0], server.server_address[1]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


# -- through a real SDK over HTTP ----------------------------------------------------------


def test_boto3_over_http_gets_real_shapes_and_errors(server: EcsHttpServer) -> None:
    ecs = sdk(server)
    created = ecs.create_cluster(clusterName="web", tags=[{"key": "a", "value": "b"}])
    assert created["cluster"]["clusterArn"] == "arn:aws:ecs:us-east-1:000000000000:cluster/web"
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert created["ResponseMetadata"]["RequestId"]
    registered = ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 64}]
    )["taskDefinition"]
    assert isinstance(registered["registeredAt"], datetime)  # epoch number on the wire
    with pytest.raises(ecs.exceptions.ClusterNotFoundException, match="Cluster not found"):
        ecs.delete_cluster(cluster="missing")
    pages = list(ecs.get_paginator("list_task_definitions").paginate(PaginationConfig={}))
    assert pages[0]["taskDefinitionArns"] == [registered["taskDefinitionArn"]]


def test_the_region_comes_from_the_signature(server: EcsHttpServer) -> None:
    sdk(server, "eu-west-1").create_cluster(clusterName="x")
    assert sdk(server, "eu-west-1").list_clusters()["clusterArns"] == [
        "arn:aws:ecs:eu-west-1:000000000000:cluster/x"
    ]
    assert sdk(server, "us-east-1").list_clusters()["clusterArns"] == []


def test_region_from_authorization_header() -> None:
    header = (
        "AWS4-HMAC-SHA256 Credential=AKID/20240101/ap-southeast-2/ecs/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    assert region_from_authorization(header) == "ap-southeast-2"
    assert region_from_authorization("Bearer x") is None
    assert region_from_authorization(None) is None


def test_many_clients_at_once(server: EcsHttpServer) -> None:
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            ecs = sdk(server)
            for round_ in range(5):
                ecs.create_cluster(clusterName=f"c{index}-{round_}")
                ecs.list_clusters()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    arns = sdk(server).get_paginator("list_clusters").paginate().build_full_result()
    assert len(arns["clusterArns"]) == 40


# -- the raw wire ---------------------------------------------------------------------------


def test_wire_headers_and_error_shapes(server: EcsHttpServer) -> None:
    status, headers, body = post(
        server,
        b"{}",
        {"X-Amz-Target": f"{TARGET}.ListClusters", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert status == 200
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert headers["x-amzn-requestid"]
    assert int(headers["x-amz-crc32"]) == zlib.crc32(body)
    assert json.loads(body) == {"clusterArns": []}

    status, _, body = post(server, b"{}", {"X-Amz-Target": f"{TARGET}.NoSuchThing"})
    assert status == 400
    assert json.loads(body)["__type"] == "UnknownOperationException"
    status, _, body = post(server, b"{}")
    assert (status, json.loads(body)["__type"]) == (400, "UnknownOperationException")
    status, _, body = post(server, b"[not json", {"X-Amz-Target": f"{TARGET}.ListClusters"})
    assert (status, json.loads(body)["__type"]) == (400, "SerializationException")
    status, _, body = post(
        server, b'{"maxResults": "many"}', {"X-Amz-Target": f"{TARGET}.ListClusters"}
    )
    assert (status, json.loads(body)["__type"]) == (400, "InvalidParameterException")


def test_gzip_and_chunked_bodies(server: EcsHttpServer) -> None:
    payload = json.dumps({"clusterName": "zipped"}).encode()
    status, _, body = post(
        server,
        gzip.compress(payload),
        {"X-Amz-Target": f"{TARGET}.CreateCluster", "Content-Encoding": "gzip"},
    )
    assert status == 200, body
    parts = [b"%x\r\n%s\r\n" % (len(part), part) for part in (payload[:5], payload[5:])]
    chunked = b"".join([*parts, b"0\r\n\r\n"])
    host, port = server.server_address[0], server.server_address[1]
    with socket.create_connection((str(host), port), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"X-Amz-Target: " + f"{TARGET}.CreateCluster".encode() + b"\r\n\r\n" + chunked
        )
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 200")


def test_too_large_bodies_are_refused(server: EcsHttpServer) -> None:
    status, _, body = post(
        server, b"{}", {"X-Amz-Target": f"{TARGET}.ListClusters", "Content-Length": "99999999999"}
    )
    assert (status, json.loads(body)["__type"]) == (413, "SerializationException")


def test_get_is_a_health_check(server: EcsHttpServer) -> None:
    host, port = server.server_address[0], server.server_address[1]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    connection.request("GET", "/")
    response = connection.getresponse()
    assert response.status == 200
    assert json.loads(response.read())["service"] == "ecs"
    connection.close()


def test_stop_closes_the_port() -> None:
    running = serve(kecs.MemoryBackend(), port=0)
    host, port = running.server_address[0], running.server_address[1]
    assert running.stop() is True
    with pytest.raises(OSError):
        socket.create_connection((str(host), port), timeout=2).close()


# -- the command -----------------------------------------------------------------------------


class Served:
    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kecs", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.banner: list[str] = []
        deadline = time.monotonic() + 30
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.banner.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl+C"):
                break
        text = "\n".join(self.banner)
        if "Press Ctrl+C" not in text:
            self.process.kill()
            _, err = self.process.communicate(timeout=30)
            raise AssertionError(f"kecs serve did not start:\n{text}\n{err}")
        self.url = text.split("Amazon ECS API at ", 1)[1].split()[0]

    def stop(self, sig: int) -> tuple[int, str]:
        self.process.send_signal(sig)
        _, err = self.process.communicate(timeout=30)
        return self.process.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_command_serves_logs_and_stops_cleanly(sig: int) -> None:
    served = Served("--region", "eu-central-1", "--account-id", "111122223333")
    banner = "\n".join(served.banner)
    assert f"aws --endpoint-url {served.url} ecs list-clusters" in banner
    assert "AWS_DEFAULT_REGION=eu-central-1" in banner
    ecs = boto3.client(
        "ecs",
        endpoint_url=served.url,
        region_name="eu-central-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    arn = ecs.create_cluster(clusterName="c")["cluster"]["clusterArn"]
    assert arn == "arn:aws:ecs:eu-central-1:111122223333:cluster/c"
    code, err = served.stop(sig)
    assert code == 0, err
    assert " CreateCluster 200 " in err and " ms eu-central-1 " in err
    assert err.rstrip().endswith("kecs: stopped")


def test_quiet_serving_logs_no_requests() -> None:
    served = Served("--quiet")
    ecs = boto3.client(
        "ecs", endpoint_url=served.url, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="y",
    )  # fmt: skip
    ecs.list_clusters()
    code, err = served.stop(signal.SIGTERM)
    assert code == 0
    assert "ListClusters" not in err


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "kecs", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert f"kecs: cannot listen on 127.0.0.1:{port}" in result.stderr


def test_a_real_cluster_without_a_kubeconfig_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kecs", "serve", "--kubeconfig", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("kecs: ")


def test_help_and_version() -> None:
    from kecs.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
