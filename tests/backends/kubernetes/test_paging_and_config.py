"""Listing through server-side pages (label selectors, ``limit``/``continue``, ``where`` applied
while pages fill), and the ways to connect: kubeconfig, context, a ready ApiClient."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import kecs
from kecs.apiserver import kubeconfig, serve_kubernetes_api
from kecs.backends import kinds
from kecs.backends.errors import Invalid
from kecs.backends.memory import MemoryBackend
from tests.backends.contract import config_map, names


@pytest.fixture
def filled(memory: MemoryBackend) -> MemoryBackend:
    for i in range(23):
        labels = {"tier": "web" if i % 3 else "db"}
        memory.create(config_map(f"cm-{i:02d}", "default", labels=labels, data={"i": str(i)}))
    return memory


def test_list_uses_server_side_selectors_and_pages(
    make_backend: Any, filled: MemoryBackend
) -> None:
    kube = make_backend(page_size=5)
    everything = kube.list_all(kinds.CONFIG_MAP, "default", selector={"tier": "db"})
    assert names(everything) == [f"cm-{i:02d}" for i in range(0, 23, 3)]
    # 8 matches in pages of 5 from the server: 2 requests, each with the selector.
    lists = [
        p for _, p, _ in kube.server.log if p.startswith("/api/v1/namespaces/default/configmaps?")
    ]
    assert len(lists) == 2
    assert all("labelSelector=tier%3Ddb" in p and "limit=5" in p for p in lists)
    assert all(o["apiVersion"] == "v1" and o["kind"] == "ConfigMap" for o in everything)


def test_limit_without_where_is_the_servers_limit(make_backend: Any, filled: MemoryBackend) -> None:
    kube = make_backend()
    page = kube.list(kinds.CONFIG_MAP, "default", limit=10)
    assert names(page.items) == [f"cm-{i:02d}" for i in range(10)]
    rest = kube.list(kinds.CONFIG_MAP, "default", limit=100, continue_token=page.continue_token)
    assert names(rest.items) == [f"cm-{i:02d}" for i in range(10, 23)]
    assert rest.continue_token is None
    assert kube.requests.total == 2


@pytest.mark.parametrize("page_size", [1, 4, 500])
@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_where_fills_pages_and_tokens_resume_exactly(
    make_backend: Any, filled: MemoryBackend, page_size: int, limit: int
) -> None:
    kube = make_backend(page_size=page_size)

    def odd(obj: dict[str, Any]) -> bool:
        return int(obj["data"]["i"]) % 2 == 1

    seen: list[str] = []
    token = None
    while True:
        page = kube.list(kinds.CONFIG_MAP, "default", limit=limit, continue_token=token, where=odd)
        assert len(page.items) <= limit
        seen.extend(names(page.items))
        token = page.continue_token
        if not token:
            break
    assert seen == [f"cm-{i:02d}" for i in range(1, 23, 2)]


def test_a_forged_token_is_invalid(kube: Any) -> None:
    for token in ("%%%", "WzFd", "WyJ4IiwwLDBd"):  # not base64 JSON / wrong shape / size 0
        with pytest.raises(Invalid):
            kube.list(kinds.CONFIG_MAP, "default", continue_token=token)


def test_cluster_scoped_lists_ignore_a_namespace(kube: Any) -> None:
    assert "default" in names(kube.list_all(kinds.NAMESPACE, "ignored"))


# -- connecting --------------------------------------------------------------------------------


def test_kubeconfig_and_named_context(tmp_path: Path) -> None:
    with (
        serve_kubernetes_api(MemoryBackend()) as good,
        serve_kubernetes_api(MemoryBackend()) as other,
    ):
        config = kubeconfig(other.url, "other")
        extra = kubeconfig(good.url, "good")
        for key in ("clusters", "users", "contexts"):
            config[key] += extra[key]
        path = tmp_path / "config"
        path.write_text(json.dumps(config))
        good.backend.create(config_map("only-in-good", "default"))
        chosen = kecs.KubernetesBackend(kubeconfig=str(path), context="good")
        assert chosen.url == good.url
        assert chosen.get(kinds.CONFIG_MAP, "only-in-good", "default")
        current = kecs.KubernetesBackend(kubeconfig=str(path))
        assert current.url == other.url
        chosen.close()
        current.close()


def test_a_ready_api_client(kube: Any) -> None:
    backend = kecs.KubernetesBackend(api_client=kube.api_client)
    assert backend.get(kinds.NAMESPACE, "default")
    backend.close()  # not ours: the client stays usable
    assert kube.get(kinds.NAMESPACE, "default")
    assert repr(backend) == f"KubernetesBackend({kube.url!r})"


def test_conflicting_connection_options_are_refused(kube: Any) -> None:
    with pytest.raises(ValueError):
        kecs.KubernetesBackend(api_client=kube.api_client, context="x")
    with pytest.raises(ValueError):
        kecs.KubernetesBackend(in_cluster=True, kubeconfig="/nowhere")
    with pytest.raises(ValueError):
        kecs.KubernetesBackend(api_client=kube.api_client, request_timeout=0)


def test_in_cluster_outside_a_pod_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes.config import ConfigException

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigException):
        kecs.KubernetesBackend(in_cluster=True)


def test_import_kecs_does_not_import_kubernetes() -> None:
    import subprocess
    import sys

    code = "import sys, kecs; kecs.client('ecs'); assert 'kubernetes' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
