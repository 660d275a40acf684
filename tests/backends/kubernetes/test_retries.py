"""KubernetesBackend's edge: retries (429 + Retry-After, 5xx, dropped connections), backoff,
error translation, and writes that stay correct when an attempt's answer was lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kecs.apiserver import faults as f
from kecs.backends import kinds
from kecs.backends.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unavailable,
)
from kecs.backends.kubernetes import transport
from kecs.backends.memory import MemoryBackend
from tests.backends.contract import config_map
from tests.backends.kubernetes.conftest import Sleeps, failing


def cm(name: str = "cm", **data: str) -> dict[str, Any]:
    return config_map(name, "default", labels={"kecs.dev/resource": "test"}, data=data or None)


def test_a_429_is_retried_after_the_servers_retry_after(
    make_backend: Callable[..., Any], sleeps: Sleeps
) -> None:
    kube = make_backend(failing(f.THROTTLED_429, times=2, retry_after=3))
    assert kube.get(kinds.NAMESPACE, "default")["metadata"]["name"] == "default"
    assert sleeps == [3.0, 3.0]
    assert kube.requests.attempts == 3 and kube.requests.retries == 2


def test_retry_after_is_capped_by_the_policy(
    make_backend: Callable[..., Any], sleeps: Sleeps
) -> None:
    from kecs.backends.kubernetes import RetryPolicy

    capped = RetryPolicy(attempts=3, max_retry_after=1.5, jitter=0, sleep=sleeps)
    kube = make_backend(failing(f.THROTTLED_429, retry_after=60), retry=capped)
    kube.get(kinds.NAMESPACE, "default")
    assert sleeps == [1.5]


@pytest.mark.parametrize("fault", [f.ERROR_500, f.DROP])
def test_server_errors_and_dropped_connections_back_off_exponentially(
    make_backend: Callable[..., Any], sleeps: Sleeps, fault: str
) -> None:
    kube = make_backend(failing(fault, times=4))
    kube.get(kinds.NAMESPACE, "default")
    # initial 0.5 s doubling up to the 4 s maximum (jitter 0 in this policy)
    assert sleeps == [0.5, 1.0, 2.0, 4.0]


def test_jitter_is_added_to_the_backoff(make_backend: Callable[..., Any], sleeps: Sleeps) -> None:
    from kecs.backends.kubernetes import RetryPolicy

    jittery = RetryPolicy(attempts=3, initial=1.0, maximum=10.0, jitter=0.5, sleep=sleeps)
    kube = make_backend(failing(f.ERROR_500, times=2), retry=jittery)
    kube.get(kinds.NAMESPACE, "default")
    assert 1.0 <= sleeps[0] <= 1.5 and 2.0 <= sleeps[1] <= 2.5


def test_attempts_are_bounded_then_unavailable(
    make_backend: Callable[..., Any], sleeps: Sleeps
) -> None:
    kube = make_backend(failing(f.ERROR_500, times=100))
    with pytest.raises(Unavailable, match="kept failing after 5 attempts"):
        kube.get(kinds.NAMESPACE, "default")
    assert kube.requests.attempts == 5 and len(sleeps) == 4


def test_an_unreachable_server_is_unavailable(sleeps: Sleeps) -> None:
    from kecs.apiserver import serve_kubernetes_api
    from kecs.backends.kubernetes import KubernetesBackend, RetryPolicy

    server = serve_kubernetes_api(MemoryBackend())
    server.close()  # nothing listens on its port any more
    kube = KubernetesBackend(
        api_client=_client_for(server.url), retry=RetryPolicy(attempts=2, jitter=0, sleep=sleeps)
    )
    with pytest.raises(Unavailable):
        kube.get(kinds.NAMESPACE, "default")
    assert kube.requests.attempts == 2


def _client_for(url: str) -> Any:
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = url
    configuration.retries = False
    return client.ApiClient(configuration)


# -- error translation -----------------------------------------------------------------------


def test_api_errors_become_backend_errors(kube: Any) -> None:
    with pytest.raises(NotFound):
        kube.get(kinds.CONFIG_MAP, "missing", "default")
    kube.create(cm())
    with pytest.raises(AlreadyExists):
        kube.create(cm())
    stale = kube.get(kinds.CONFIG_MAP, "cm", "default")
    kube.patch(kinds.CONFIG_MAP, "cm", {"data": {"a": "1"}}, "default")
    with pytest.raises(Conflict):
        kube.update(stale)
    with pytest.raises(Invalid):
        kube.create(config_map("Not_A_Name", "default"))
    with pytest.raises(Invalid):
        kube.list(kinds.CONFIG_MAP, "default", selector="a in ()")


class _FakeApiException(Exception):
    def __init__(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers, self.reason = status, body, headers, "r"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, "{}", Forbidden),
        (403, '{"reason":"Forbidden","message":"no"}', Forbidden),
        (
            403,
            '{"reason":"Forbidden","details":{"causes":[{"reason":"NamespaceTerminating"}]}}',
            Conflict,
        ),
        (409, '{"reason":"AlreadyExists"}', AlreadyExists),
        (409, '{"reason":"Conflict"}', Conflict),
        (400, '{"reason":"BadRequest"}', Invalid),
        (410, '{"reason":"Expired"}', Invalid),
        (422, '{"reason":"Invalid"}', Invalid),
    ],
)
def test_status_translation(status: int, body: str, error: type[Exception]) -> None:
    translated = transport._translate_status(_FakeApiException(status, body), "POST")  # type: ignore[arg-type]
    assert type(translated) is error


def test_retryable_statuses_carry_retry_after() -> None:
    exc = _FakeApiException(429, '{"reason":"TooManyRequests"}', {"Retry-After": "7"})
    translated = transport._translate_status(exc, "POST")  # type: ignore[arg-type]
    assert isinstance(translated, transport._Retryable)
    assert translated.retry_after == 7.0 and not translated.ambiguous
    server_error = transport._translate_status(_FakeApiException(503, "{}"), "PUT")  # type: ignore[arg-type]
    assert isinstance(server_error, transport._Retryable) and server_error.ambiguous


# -- writes whose answer was lost ----------------------------------------------------------


@pytest.mark.parametrize("fault", [f.ERROR_500_AFTER, f.DROP_AFTER])
def test_a_create_retried_after_it_took_effect_succeeds_once(
    make_backend: Callable[..., Any], memory: MemoryBackend, fault: str
) -> None:
    kube = make_backend(failing(fault))
    created = kube.create(cm(a="1"))
    assert created["data"] == {"a": "1"}
    assert kube.requests.retries == 1
    assert (
        memory.get(kinds.CONFIG_MAP, "cm", "default")["metadata"]["uid"]
        == created["metadata"]["uid"]
    )


def test_a_retried_create_that_finds_someone_elses_object_is_already_exists(
    make_backend: Callable[..., Any], memory: MemoryBackend
) -> None:
    other = cm()
    other["metadata"]["labels"] = {"kecs.dev/resource": "someone-else"}
    memory.create(other)
    kube = make_backend(failing(f.DROP))  # ambiguous: the retry cannot tell who made it
    with pytest.raises(AlreadyExists):
        kube.create(cm())


def test_generate_name_is_resolved_once_so_retries_make_one_object(
    make_backend: Callable[..., Any], memory: MemoryBackend
) -> None:
    kube = make_backend(failing(f.DROP_AFTER))
    obj = cm()
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "task-"
    created = kube.create(obj)
    assert created["metadata"]["name"].startswith("task-")
    assert [o["metadata"]["name"] for o in memory.list_all(kinds.CONFIG_MAP, "default")] == [
        created["metadata"]["name"]
    ]


@pytest.mark.parametrize("fault", [f.ERROR_500_AFTER, f.DROP_AFTER])
def test_an_update_retried_after_it_took_effect_succeeds(
    make_backend: Callable[..., Any], memory: MemoryBackend, fault: str
) -> None:
    current = memory.create(cm(n="0"))
    kube = make_backend(failing(fault))
    current["data"] = {"n": "1"}
    assert kube.update(current)["data"] == {"n": "1"}


def test_a_conditional_patch_retried_after_it_took_effect_succeeds(
    make_backend: Callable[..., Any], memory: MemoryBackend
) -> None:
    version = memory.create(cm(n="0"))["metadata"]["resourceVersion"]
    kube = make_backend(failing(f.DROP_AFTER))
    patch = {"metadata": {"resourceVersion": version}, "data": {"n": "1"}}
    assert kube.patch(kinds.CONFIG_MAP, "cm", patch, "default")["data"] == {"n": "1"}


def test_a_real_conflict_after_a_retry_is_still_a_conflict(
    make_backend: Callable[..., Any], memory: MemoryBackend
) -> None:
    stale = memory.create(cm(n="0"))
    memory.patch(kinds.CONFIG_MAP, "cm", {"data": {"n": "other"}}, "default")
    kube = make_backend(failing(f.ERROR_500))
    stale["data"] = {"n": "1"}
    with pytest.raises(Conflict):
        kube.update(stale)


def test_a_delete_retried_after_it_took_effect_succeeds(
    make_backend: Callable[..., Any], memory: MemoryBackend
) -> None:
    memory.create(cm())
    kube = make_backend(failing(f.DROP_AFTER))
    kube.delete(kinds.CONFIG_MAP, "cm", "default")
    with pytest.raises(NotFound):
        memory.get(kinds.CONFIG_MAP, "cm", "default")
    with pytest.raises(NotFound):
        kube.delete(kinds.CONFIG_MAP, "cm", "default")


def test_modify_rereads_on_conflict(kube: Any, memory: MemoryBackend) -> None:
    memory.create(cm(n="0"))
    calls = []

    def bump(obj: dict[str, Any]) -> dict[str, Any]:
        calls.append(obj["data"]["n"])
        if len(calls) == 1:  # someone else writes between our read and our write
            memory.patch(kinds.CONFIG_MAP, "cm", {"data": {"other": "x"}}, "default")
        obj["data"]["n"] = str(int(obj["data"]["n"]) + 1)
        return obj

    result = kube.modify(kinds.CONFIG_MAP, "cm", bump, "default")
    assert result["data"] == {"n": "1", "other": "x"} and len(calls) == 2


# -- what every request carries ----------------------------------------------------------------


def test_requests_carry_the_field_manager_and_a_timeout(make_backend: Callable[..., Any]) -> None:
    kube = make_backend(field_manager="kecs-test", request_timeout=7)
    kube.create(cm())
    kube.patch(kinds.CONFIG_MAP, "cm", {"data": {"a": "b"}}, "default")
    kube.get(kinds.CONFIG_MAP, "cm", "default")
    log = [path for method, path, _ in kube.server.log if "/configmaps" in path]
    assert all("timeout=7s" in p for p in log)
    writes = [p for p in log if "fieldManager" in p]
    assert len(writes) == 2 and all("fieldManager=kecs-test" in p for p in writes)


def test_the_counter_counts_per_verb_and_kind(kube: Any) -> None:
    kube.requests.reset()
    kube.create(cm())
    kube.get(kinds.CONFIG_MAP, "cm", "default")
    kube.list_all(kinds.DEPLOYMENT)
    assert kube.requests.by_verb_and_kind() == {
        "create configmaps": 1,
        "get configmaps": 1,
        "list deployments.apps": 1,
    }
    assert kube.requests.total == 3
